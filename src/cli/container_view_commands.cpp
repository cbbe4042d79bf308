// berth ps, logs, inspect (and container ls/logs/inspect).
#include "container_commands.h"
#include "container_filters.h"
#include "output.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/engine/container_files.h"
#include "berth/engine/json_log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <iostream>
#include <thread>
#include <unistd.h>

namespace berth::cli {

namespace {

using nlohmann::json;

std::string read_file_or_empty(const std::string& path) {
    try {
        std::string text = read_file(path);
        while (!text.empty() && text.back() == '\n')
            text.pop_back();
        return text;
    } catch (const Error&) {
        return {};
    }
}

// The container's process as config.json has it (ENTRYPOINT + CMD resolved).
json process_of(engine::Engine& engine, const engine::ContainerRecord& record) {
    try {
        json spec = json::parse(read_file(engine.container_dir(record.id) + "/config.json"));
        return spec.value("process", json::object());
    } catch (const std::exception&) {
        return json::object();
    }
}

std::vector<std::string> args_of(const json& process) {
    return process.contains("args") ? process["args"].get<std::vector<std::string>>()
                                    : std::vector<std::string>{};
}

// The same args from the small file create writes beside config.json (a
// container created before it existed: from config.json).
std::vector<std::string> command_of(engine::Engine& engine, const engine::ContainerRecord& record) {
    try {
        json args =
            json::parse(read_file(engine::process_args_path(engine.container_dir(record.id))));
        if (args.is_array()) return args.get<std::vector<std::string>>();
    } catch (const std::exception&) {
    }
    return args_of(process_of(engine, record));
}

// ps's CreatedAt as Docker's (Go's time.String in the local zone, to the
// second): "2026-11-29 17:27:59 +0000 UTC".
std::string go_time_text(const std::string& rfc3339) {
    std::time_t seconds = parse_rfc3339(rfc3339);
    std::tm local{};
    if (seconds < 0 || !::localtime_r(&seconds, &local)) return rfc3339;
    char text[64];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S %z %Z", &local);
    return text;
}

// "5 seconds ago" -> "5 seconds", for "Up 5 seconds".
std::string duration_since(const std::string& time) {
    std::string text = time_since(time);
    if (text.ends_with(" ago")) text.resize(text.size() - 4);
    return text;
}

std::string status_text(const engine::ContainerRecord& record, const std::string& health) {
    switch (record.state) {
    case engine::ContainerState::created:
        return "Created";
    case engine::ContainerState::running:
        return "Up " + duration_since(record.started) +
               (record.paused ? " (Paused)" : engine::health_status_suffix(health));
    case engine::ContainerState::removing:
        return "Removal In Progress";
    case engine::ContainerState::restarting:
        return "Restarting (" + std::to_string(record.exit_code) + ") " +
               time_since(record.finished);
    case engine::ContainerState::exited:
        return "Exited (" + std::to_string(record.exit_code) + ") " + time_since(record.finished);
    }
    return "";
}

// Docker quotes the command and cuts it at 20 characters with an ellipsis;
// an argument with a space is in single quotes ("sh -c 'exit 2'").
std::string command_text(const std::vector<std::string>& args, bool no_trunc) {
    std::string text;
    for (std::size_t i = 0; i < args.size(); ++i) {
        bool quote = i > 0 && args[i].find(' ') != std::string::npos;
        text += (i ? " " : "") + (quote ? "'" + args[i] + "'" : args[i]);
    }
    if (!no_trunc && text.size() > 19) text = text.substr(0, 19) + "…";
    return "\"" + text + "\"";
}

std::string labels_text(const std::map<std::string, std::string>& labels) {
    std::string text;
    for (const auto& [key, value] : labels)
        text += (text.empty() ? "" : ",") + key + "=" + value;
    return text;
}

json ps_row(engine::Engine& engine, const engine::ContainerRecord& record,
            const engine::ContainerOptions& options, const std::string& network, bool no_trunc,
            const std::string& health) {
    std::string mounts;
    int volumes = 0;
    for (const auto& mount : options.mounts) {
        volumes += mount.type == "volume";
        mounts +=
            (mounts.empty() ? "" : ",") +
            (mount.type == "volume" ? mount.source.substr(0, no_trunc ? 64 : 16) : mount.target);
    }
    return {{"ID", no_trunc ? record.id : record.id.substr(0, 12)},
            {"Image", record.image_name},
            {"Command", command_text(command_of(engine, record), no_trunc)},
            {"CreatedAt", go_time_text(record.created)},
            {"RunningFor", time_since(record.created)},
            {"Status", status_text(record, health)},
            {"State", record.paused ? "paused" : engine::state_name(record.state)},
            {"Ports", ""},
            {"Names", record.name},
            {"Labels", labels_text(options.labels)},
            {"Mounts", mounts},
            {"Networks", network},
            {"LocalVolumes", std::to_string(volumes)},
            {"Size", ""}};
}

struct ListOptions {
    bool all = false, quiet = false, no_trunc = false, latest = false, size = false;
    int last = -1;
    std::string format;
    std::vector<std::string> filters;
};

void list_containers(const GlobalOptions& global, const ListOptions& options) {
    ContainerFilter filter(options.filters);
    Template compiled(options.format.empty() ? "{{.ID}}" : options.format);
    auto engine = open_engine(global);
    // -n and -l pick among every container, newest first, as Docker's.
    int limit = options.latest ? 1 : options.last;
    bool all = options.all || limit >= 0 || filter.has_status();
    std::vector<json> rows, methods;
    std::vector<engine::ContainerRecord> records;
    auto listed = engine.list();
    // before=/since=: where the containers they name are in the list.
    auto positions_of = [&](const std::string& key) {
        std::vector<std::size_t> positions;
        for (const auto& reference : filter.references(key)) {
            std::string id = engine.get(reference).id;
            for (std::size_t i = 0; i < listed.size(); ++i)
                if (listed[i].id == id) positions.push_back(i);
        }
        return positions;
    };
    auto before = positions_of("before"), since = positions_of("since");
    for (std::size_t position = 0; position < listed.size(); ++position) {
        const auto& record = listed[position];
        if (limit >= 0 && static_cast<int>(rows.size()) >= limit) break;
        if (!ContainerFilter::in_window(position, before, since)) continue;
        if (!all && record.state != engine::ContainerState::running) continue;
        json request = json::parse(record.config_json, nullptr, false);
        engine::ContainerOptions container_options =
            request.is_object() ? engine::run_request_from_json(request).options
                                : engine::ContainerOptions();
        // "none" for a container without a check, as Docker's health filter says.
        auto health_state = engine.health(record);
        std::string health = health_state ? health_state->status : "none";
        std::string network = request.is_object() ? request.value("network", "") : "";
        if (network.empty()) network = "bridge";
        if (!filter.matches(record, container_options, network, health)) continue;
        // -q prints the ID alone: no file of the container is read for it.
        rows.push_back(
            options.quiet
                ? json{{"ID", options.no_trunc ? record.id : record.id.substr(0, 12)}}
                : ps_row(engine, record, container_options, network, options.no_trunc, health));
        methods.push_back({{"Label", container_options.labels}});
        records.push_back(record);
    }
    if (!options.quiet) {
        auto ports = published_ports_text(global, records);
        for (std::size_t i = 0; i < rows.size(); ++i)
            rows[i]["Ports"] = ports[i];
    }
    // Docker computes sizes when the format shows them, -s or not.
    if ((options.size || options.format.find(".Size") != std::string::npos) && !options.quiet) {
        // Docker's "own (virtual own+image)": the writable layer, then with the image.
        auto store = open_store(global);
        for (std::size_t i = 0; i < rows.size(); ++i) {
            auto own = static_cast<std::int64_t>(engine.container_size(records[i].id));
            std::int64_t image_size = 0;
            if (auto image = store->find(records[i].image_id)) image_size = image->size;
            rows[i]["Size"] = human_size(own) + " (virtual " + human_size(own + image_size) + ")";
        }
    }
    if (options.quiet) {
        for (const auto& row : rows)
            std::cout << row["ID"].get<std::string>() << "\n";
        return;
    }
    if (!options.format.empty()) {
        std::cout << format_rows(compiled, rows,
                                 {{"ID", "CONTAINER ID"},
                                  {"RunningFor", "CREATED"},
                                  {"Names", "NAMES"},
                                  {"LocalVolumes", "LOCAL VOLUMES"}},
                                 methods);
        return;
    }
    std::vector<std::vector<std::string>> cells = {
        {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}};
    if (options.size) cells.front().push_back("SIZE");
    for (const auto& row : rows) {
        cells.push_back({row["ID"], row["Image"], row["Command"], row["RunningFor"], row["Status"],
                         row["Ports"], row["Names"]});
        if (options.size) cells.back().push_back(row["Size"]);
    }
    std::cout << table(cells);
}

// Docker's "Mounts" of inspect: each mount with where its data is on the host.
json mounts_json(engine::Engine& engine, const engine::ContainerOptions& options) {
    json mounts = json::array();
    for (const auto& mount : options.mounts) {
        json entry = {
            {"Type", mount.type},
            {"Destination", mount.target},
            {"Mode", ""},
            {"RW", !mount.read_only},
            {"Propagation", mount.type == "bind"
                                ? (mount.propagation.empty() ? "rprivate" : mount.propagation)
                                : ""}};
        if (mount.type == "volume") {
            entry["Name"] = mount.source;
            entry["Source"] = engine.volume_mountpoint(mount.source);
            entry["Driver"] = "local";
        } else {
            entry["Source"] = mount.type == "bind" ? mount.source : "";
        }
        mounts.push_back(entry);
    }
    return mounts;
}

json ulimits_json(const engine::ContainerOptions& options) {
    json ulimits = json::array();
    for (const auto& limit : options.ulimits)
        ulimits.push_back({{"Name", limit.name}, {"Soft", limit.soft}, {"Hard", limit.hard}});
    return ulimits;
}

// Docker's Config.Healthcheck: nanoseconds, zero fields left out.
json healthcheck_json(const json& request) {
    if (!request.is_object() || !request.contains("healthcheck")) return nullptr;
    auto check = request["healthcheck"].get<engine::HealthcheckRequest>();
    if (check.test.empty()) return nullptr;
    json out = {{"Test", check.test}};
    if (check.interval_ns) out["Interval"] = check.interval_ns;
    if (check.timeout_ns) out["Timeout"] = check.timeout_ns;
    if (check.start_period_ns) out["StartPeriod"] = check.start_period_ns;
    if (check.retries) out["Retries"] = check.retries;
    return out;
}

// Docker's HostConfig.Binds: the -v binds and named volumes, as given.
json binds_json(const engine::ContainerOptions& options) {
    json binds = json::array();
    for (const auto& mount : options.mounts) {
        bool from_v = (mount.type == "bind" && mount.create_source) ||
                      (mount.type == "volume" && !mount.anonymous);
        if (from_v)
            binds.push_back(mount.source + ":" + mount.target + (mount.read_only ? ":ro" : ""));
    }
    return binds.empty() ? json(nullptr) : binds;
}

// Docker's Config.Volumes: the anonymous volumes' targets, as a set.
json volumes_json(const engine::ContainerOptions& options) {
    json volumes = json::object();
    for (const auto& mount : options.mounts)
        if (mount.type == "volume" && mount.anonymous) volumes[mount.target] = json::object();
    return volumes.empty() ? json(nullptr) : volumes;
}

json inspect_json(engine::Engine& engine, const engine::ContainerRecord& record) {
    json process = process_of(engine, record);
    auto args = args_of(process);
    json request = json::parse(record.config_json, nullptr, false);
    engine::RunRequest whole =
        request.is_object() ? engine::run_request_from_json(request) : engine::RunRequest();
    const engine::ContainerOptions& options = whole.options;
    auto or_null = [](const std::vector<std::string>& list) {
        return list.empty() ? json(nullptr) : json(list);
    };
    json security_options = json::array();
    if (whole.no_new_privileges) security_options.push_back("no-new-privileges");
    if (whole.seccomp == "unconfined") security_options.push_back("seccomp=unconfined");
    std::string dir = engine.container_dir(record.id);
    bool running = record.state == engine::ContainerState::running;
    auto or_zero_time = [](const std::string& time) {
        return time.empty() ? std::string("0001-01-01T00:00:00Z") : time;
    };
    json inspected = {
        {"Id", record.id},
        {"Created", record.created},
        {"Path", args.empty() ? "" : args.front()},
        {"Args", args.empty() ? json::array()
                              : json(std::vector<std::string>(args.begin() + 1, args.end()))},
        {"State",
         {{"Status", record.paused ? "paused" : engine::state_name(record.state)},
          {"Running", running},
          {"Paused", record.paused},
          {"Restarting", record.state == engine::ContainerState::restarting},
          {"OOMKilled", false},
          {"Dead", false},
          {"Pid", record.pid},
          {"ExitCode", record.exit_code},
          {"Error", record.error},
          {"StartedAt", or_zero_time(record.started)},
          {"FinishedAt", or_zero_time(record.finished)}}},
        {"Image", record.image_id},
        {"RestartCount", record.restart_count},
        {"ResolvConfPath", dir + "/resolv.conf"},
        {"HostnamePath", dir + "/hostname"},
        {"HostsPath", dir + "/hosts"},
        {"LogPath", engine.log_path(record.id)},
        {"Name", "/" + record.name},
        {"Driver", "overlay"},
        {"HostConfig",
         {{"AutoRemove", request.value("auto_remove", false)},
          {"ReadonlyRootfs", request.value("read_only", false)},
          {"Privileged", request.value("privileged", false)},
          {"NetworkMode", request.value("network", "bridge")},
          {"Memory", request.value("memory_bytes", 0)},
          {"PidsLimit", request.value("pids_limit", 0)},
          {"NanoCpus", static_cast<std::int64_t>(request.value("cpus", 0.0) * 1e9)},
          {"CapAdd", request.value("cap_add", json::array())},
          {"CapDrop", request.value("cap_drop", json::array())},
          {"CgroupParent", request.value("cgroup_parent", "")},
          {"Runtime", request.value("runtime", "").empty() ? std::string("berth")
                                                           : request.value("runtime", "")},
          {"MemorySwap", options.memory_swap},
          {"CpuShares", options.cpu_shares},
          {"CpusetCpus", options.cpuset_cpus},
          {"GroupAdd", options.group_add},
          {"Init", options.init},
          {"Ulimits", ulimits_json(options)},
          {"RestartPolicy",
           {{"Name", options.restart.name},
            {"MaximumRetryCount", options.restart.maximum_retries}}},
          {"LogConfig", {{"Type", whole.log_driver}, {"Config", whole.log_options}}},
          {"Binds", binds_json(options)},
          {"Dns", or_null(whole.network_options.dns)},
          {"DnsSearch", or_null(whole.network_options.dns_search)},
          {"ExtraHosts", or_null(whole.network_options.add_hosts)},
          {"PublishAllPorts", whole.network_options.publish_all},
          {"SecurityOpt", security_options.empty() ? json(nullptr) : security_options},
          {"ShmSize", 64 * 1024 * 1024},
          {"IpcMode", "private"},
          {"PidMode", ""},
          {"UTSMode", ""},
          {"UsernsMode", ""},
          {"Links", nullptr},
          {"VolumesFrom", nullptr},
          {"OomKillDisable", false},
          {"MemoryReservation", 0},
          {"CpuQuota", 0},
          {"CpuPeriod", 0}}},
        {"GraphDriver",
         {{"Name", "overlay"},
          {"Data",
           {{"MergedDir", dir + "/rootfs"},
            {"UpperDir", dir + "/upper"},
            {"WorkDir", dir + "/work"}}}}},
        {"Mounts", mounts_json(engine, options)},
        {"Config",
         {{"Hostname", read_file_or_empty(dir + "/hostname")},
          {"User", request.value("user", "")},
          {"Env", process.value("env", json::array())},
          {"Cmd", request.value("command", json::array())},
          {"Image", record.image_name},
          {"WorkingDir", process.value("cwd", "")},
          {"Entrypoint", request.value("entrypoint", json::array())},
          {"StopSignal", request.value("stop_signal", "SIGTERM")},
          {"Labels", options.labels},
          {"Domainname", ""},
          {"Tty", whole.tty},
          {"OpenStdin", whole.interactive},
          {"Volumes", volumes_json(options)},
          {"OnBuild", nullptr}}},
        {"Platform", "linux"},
        {"ExecIDs", nullptr},
        {"MountLabel", ""},
        {"ProcessLabel", ""},
        {"AppArmorProfile", ""},
    };
    if (json check = healthcheck_json(request); !check.is_null())
        inspected["Config"]["Healthcheck"] = check;
    if (auto health = engine.health(record))
        inspected["State"]["Health"] = engine::health_state_to_json(*health);
    return inspected;
}

} // namespace

void add_container_view_commands(CLI::App& app, GlobalOptions& global) {
    auto define_list = [&global](CLI::App* command) {
        auto options = std::make_shared<ListOptions>();
        command->add_flag("-a,--all", options->all, "Show all containers (default: running ones)");
        command->add_flag("-q,--quiet", options->quiet, "Only show container IDs");
        command->add_flag("--no-trunc", options->no_trunc, "Do not truncate output");
        command->add_flag("-s,--size", options->size, "Display total file sizes");
        command->add_option("-n,--last", options->last,
                            "Show the N last created containers (all states)");
        command->add_flag("-l,--latest", options->latest,
                          "Show the latest created container (all states)");
        command
            ->add_option(
                "-f,--filter", options->filters,
                "Filter: id=, name=, label=KEY[=VALUE], status=, exited=, ancestor=, health=")
            ->allow_extra_args(false);
        command->add_option("--format", options->format,
                            "Go-template-like format: {{.ID}} {{.Image}} {{.Command}} {{.Status}} "
                            "{{.State}} {{.Names}} {{.Labels}} {{.CreatedAt}} {{.RunningFor}}, "
                            "table ..., {{json .}}");
        command->callback([&global, options] { list_containers(global, *options); });
    };
    define_list(app.add_subcommand("ps", "List containers"));
    define_list(
        container_group(app).add_subcommand("ls", "List containers")->alias("ps")->alias("list"));

    auto define_inspect = [&global](CLI::App* command) {
        auto references = std::make_shared<std::vector<std::string>>();
        auto format = std::make_shared<std::string>();
        command->add_option("-f,--format", *format,
                            "Go-template-like format, e.g. {{.State.Status}}");
        command->add_option("CONTAINER", *references, "Containers")->required();
        command->callback([&global, references, format] {
            auto engine = open_engine(global);
            json all = json::array();
            int failures = 0;
            for (const auto& reference : *references) {
                try {
                    std::optional<engine::ContainerRecord> record;
                    try {
                        record = engine.get(reference);
                    } catch (const Error&) {
                        // Docker's inspect looks further: an image, then a
                        // volume of that name.
                        try {
                            auto store = open_store(global);
                            all.push_back(image_inspect_json(*store, store->resolve(reference)));
                            continue;
                        } catch (const Error&) {
                        }
                        if (!engine.list_volumes().empty()) {
                            try {
                                all.push_back(volume_json(engine, engine.get_volume(reference)));
                                continue;
                            } catch (const Error&) {
                            }
                        }
                        fail("no such object: " + reference);
                    }
                    json item = inspect_json(engine, *record);
                    item["NetworkSettings"] = network_settings_json(global, item["Id"]);
                    all.push_back(item);
                } catch (const Error& error) {
                    std::cerr << "berth: " << error.what() << "\n";
                    ++failures;
                }
            }
            print_inspected(all, *format);
            if (failures) exit_with(1);
        });
    };
    define_inspect(app.add_subcommand("inspect", "Show containers in detail"));
    define_inspect(container_group(app).add_subcommand("inspect", "Show containers in detail"));
}

} // namespace berth::cli
