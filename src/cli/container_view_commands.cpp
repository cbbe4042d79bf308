// berth ps, logs, inspect (and container ls/logs/inspect).
#include "container_commands.h"
#include "output.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/engine/json_log.h"

#include <chrono>
#include <cstdio>
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

// "5 seconds ago" -> "5 seconds", for "Up 5 seconds".
std::string duration_since(const std::string& time) {
    std::string text = time_since(time);
    if (text.ends_with(" ago")) text.resize(text.size() - 4);
    return text;
}

std::string status_text(const engine::ContainerRecord& record) {
    switch (record.state) {
    case engine::ContainerState::created:
        return "Created";
    case engine::ContainerState::running:
        return "Up " + duration_since(record.started);
    case engine::ContainerState::removing:
        return "Removal In Progress";
    case engine::ContainerState::exited:
        return "Exited (" + std::to_string(record.exit_code) + ") " + time_since(record.finished);
    }
    return "";
}

// Docker quotes the command and cuts it at 20 characters with an ellipsis.
std::string command_text(const std::vector<std::string>& args, bool no_trunc) {
    std::string text;
    for (const auto& arg : args)
        text += (text.empty() ? "" : " ") + arg;
    if (!no_trunc && text.size() > 19) text = text.substr(0, 19) + "…";
    return "\"" + text + "\"";
}

json ps_row(engine::Engine& engine, const engine::ContainerRecord& record, bool no_trunc) {
    return {{"ID", no_trunc ? record.id : record.id.substr(0, 12)},
            {"Image", record.image_name},
            {"Command", command_text(args_of(process_of(engine, record)), no_trunc)},
            {"CreatedAt", record.created},
            {"RunningFor", time_since(record.created)},
            {"Status", status_text(record)},
            {"State", engine::state_name(record.state)},
            {"Ports", ""},
            {"Names", record.name}};
}

void list_containers(const GlobalOptions& global, bool all, bool quiet, bool no_trunc,
                     const std::string& format) {
    auto engine = open_engine(global);
    std::vector<json> rows;
    std::vector<engine::ContainerRecord> records;
    for (const auto& record : engine.list())
        if (all || record.state == engine::ContainerState::running) {
            rows.push_back(ps_row(engine, record, no_trunc));
            records.push_back(record);
        }
    if (!quiet) {
        auto ports = published_ports_text(global, records);
        for (std::size_t i = 0; i < rows.size(); ++i)
            rows[i]["Ports"] = ports[i];
    }
    if (quiet) {
        for (const auto& row : rows)
            std::cout << row["ID"].get<std::string>() << "\n";
        return;
    }
    if (!format.empty()) {
        Template compiled(format);
        if (compiled.is_table())
            std::cout << compiled.header({{"ID", "CONTAINER ID"}, {"RunningFor", "CREATED"}})
                      << "\n";
        for (const auto& row : rows)
            std::cout << compiled.render(row) << "\n";
        return;
    }
    std::vector<std::vector<std::string>> cells = {
        {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}};
    for (const auto& row : rows)
        cells.push_back({row["ID"], row["Image"], row["Command"], row["RunningFor"], row["Status"],
                         row["Ports"], row["Names"]});
    std::cout << table(cells);
}

json inspect_json(engine::Engine& engine, const engine::ContainerRecord& record) {
    json process = process_of(engine, record);
    auto args = args_of(process);
    json request = json::parse(record.config_json, nullptr, false);
    std::string dir = engine.container_dir(record.id);
    bool running = record.state == engine::ContainerState::running;
    auto or_zero_time = [](const std::string& time) {
        return time.empty() ? std::string("0001-01-01T00:00:00Z") : time;
    };
    return {
        {"Id", record.id},
        {"Created", record.created},
        {"Path", args.empty() ? "" : args.front()},
        {"Args", args.empty() ? json::array()
                              : json(std::vector<std::string>(args.begin() + 1, args.end()))},
        {"State",
         {{"Status", engine::state_name(record.state)},
          {"Running", running},
          {"Paused", false},
          {"Restarting", false},
          {"OOMKilled", false},
          {"Dead", false},
          {"Pid", record.pid},
          {"ExitCode", record.exit_code},
          {"Error", record.error},
          {"StartedAt", or_zero_time(record.started)},
          {"FinishedAt", or_zero_time(record.finished)}}},
        {"Image", record.image_id},
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
          {"LogConfig", {{"Type", "json-file"}, {"Config", json::object()}}}}},
        {"GraphDriver",
         {{"Name", "overlay"},
          {"Data",
           {{"MergedDir", dir + "/rootfs"},
            {"UpperDir", dir + "/upper"},
            {"WorkDir", dir + "/work"}}}}},
        {"Mounts", json::array()},
        {"Config",
         {{"Hostname", read_file_or_empty(dir + "/hostname")},
          {"User", request.value("user", "")},
          {"Env", process.value("env", json::array())},
          {"Cmd", request.value("command", json::array())},
          {"Image", record.image_name},
          {"WorkingDir", process.value("cwd", "")},
          {"Entrypoint", request.value("entrypoint", json::array())},
          {"StopSignal", request.value("stop_signal", "SIGTERM")}}},
    };
}

void print_logs(engine::Engine& engine, const std::string& reference, bool follow,
                const std::string& tail, bool timestamps) {
    engine::ContainerRecord record = engine.get(reference);
    std::string path = engine.log_path(record.id);
    if (!path_exists(path)) return;
    UniqueFd log(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!log) throw_errno("opening " + path);

    auto print = [&](const std::string& line) {
        engine::LogEntry entry;
        if (!engine::parse_log_line(line, entry)) return;
        std::string text = timestamps ? entry.time + " " + entry.text : entry.text;
        write_all(entry.stream == "stderr" ? STDERR_FILENO : STDOUT_FILENO, text,
                  "the log's output");
    };
    std::string pending;
    auto read_lines = [&] {
        std::vector<std::string> lines;
        char buffer[65536];
        ssize_t got;
        while ((got = ::read(log.get(), buffer, sizeof buffer)) > 0) {
            pending.append(buffer, static_cast<std::size_t>(got));
            std::size_t start = 0, newline;
            while ((newline = pending.find('\n', start)) != std::string::npos) {
                lines.push_back(pending.substr(start, newline - start));
                start = newline + 1;
            }
            pending.erase(0, start);
        }
        return lines;
    };

    auto lines = read_lines();
    std::size_t first = 0;
    if (tail != "all" && !tail.empty()) {
        std::size_t count = static_cast<std::size_t>(std::stoul(tail));
        if (lines.size() > count) first = lines.size() - count;
    }
    for (std::size_t i = first; i < lines.size(); ++i)
        print(lines[i]);
    if (!follow) return;
    // Until the container stops: the monitor appends, we read on.
    for (;;) {
        bool running = false;
        try {
            running = engine.get(record.id).state == engine::ContainerState::running;
        } catch (const Error&) {
        }
        for (const auto& line : read_lines())
            print(line);
        if (!running) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

} // namespace

void add_container_view_commands(CLI::App& app, GlobalOptions& global) {
    auto define_list = [&global](CLI::App* command) {
        struct Options {
            bool all = false, quiet = false, no_trunc = false;
            std::string format;
        };
        auto options = std::make_shared<Options>();
        command->add_flag("-a,--all", options->all, "Show all containers (default: running ones)");
        command->add_flag("-q,--quiet", options->quiet, "Only show container IDs");
        command->add_flag("--no-trunc", options->no_trunc, "Do not truncate output");
        command->add_option("--format", options->format,
                            "Go-template-like format: {{.ID}} {{.Image}} {{.Command}} {{.Status}} "
                            "{{.State}} {{.Names}} {{.CreatedAt}} {{.RunningFor}}");
        command->callback([&global, options] {
            list_containers(global, options->all, options->quiet, options->no_trunc,
                            options->format);
        });
    };
    define_list(app.add_subcommand("ps", "List containers"));
    define_list(
        container_group(app).add_subcommand("ls", "List containers")->alias("ps")->alias("list"));

    auto define_logs = [&global](CLI::App* command) {
        struct Options {
            std::string reference, tail = "all";
            bool follow = false, timestamps = false;
        };
        auto options = std::make_shared<Options>();
        command->add_flag("-f,--follow", options->follow,
                          "Follow the output until the container stops");
        command->add_option("-n,--tail", options->tail, "Lines to show from the end (default all)");
        command->add_flag("-t,--timestamps", options->timestamps, "Show timestamps");
        command->add_option("CONTAINER", options->reference, "Container")->required();
        command->callback([&global, options] {
            auto engine = open_engine(global);
            print_logs(engine, options->reference, options->follow, options->tail,
                       options->timestamps);
        });
    };
    define_logs(app.add_subcommand("logs", "Show a container's output"));
    define_logs(container_group(app).add_subcommand("logs", "Show a container's output"));

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
                    json item = inspect_json(engine, engine.get(reference));
                    item["NetworkSettings"] = network_settings_json(global, item["Id"]);
                    all.push_back(item);
                } catch (const Error& error) {
                    std::cerr << "berth: " << error.what() << "\n";
                    ++failures;
                }
            }
            if (format->empty()) {
                std::cout << all.dump(4) << "\n";
            } else {
                Template compiled(*format);
                for (const auto& item : all)
                    std::cout << compiled.render(item) << "\n";
            }
            if (failures) exit_with(1);
        });
    };
    define_inspect(app.add_subcommand("inspect", "Show containers in detail"));
    define_inspect(container_group(app).add_subcommand("inspect", "Show containers in detail"));
}

} // namespace berth::cli
