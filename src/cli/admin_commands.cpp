// berth rename, top, container prune, version, info, system df.
#include "container_commands.h"
#include "output.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/text.h"
#include "berth/image/image_store.h"

#include <cmath>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <iostream>
#include <set>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BERTH_VERSION
#define BERTH_VERSION "0.1.0"
#endif

namespace berth::cli {

namespace {

using nlohmann::json;

// Docker's API version that berth's output follows.
constexpr const char* api_version = "1.43";

bool confirmed(const std::string& warning) {
    std::cout << warning << "\nAre you sure you want to continue? [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "y" || answer == "Y" || answer == "yes";
}

// What a command printed on its stdout; Error if it could not run or failed.
std::string output_of(const std::vector<std::string>& args) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) < 0) throw_errno("creating a pipe for " + args[0]);
    UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
    pid_t child = ::fork();
    if (child < 0) throw_errno("forking " + args[0]);
    if (child == 0) {
        ::dup2(write_end.get(), STDOUT_FILENO);
        std::vector<char*> argv;
        for (const auto& arg : args)
            argv.push_back(const_cast<char*>(arg.c_str()));
        argv.push_back(nullptr);
        ::execvp(argv[0], argv.data());
        ::_exit(127);
    }
    write_end.reset();
    std::string out = read_all(read_end.get());
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail(args[0] + " failed (exit status " + std::to_string(WEXITSTATUS(status)) + ")");
    return out;
}

std::string reclaimable_text(std::uint64_t reclaimable, std::uint64_t total) {
    std::string text = human_size(static_cast<std::int64_t>(reclaimable));
    if (total == 0) return text;
    return text + " (" + std::to_string(reclaimable * 100 / total) + "%)";
}

int cgroup_version() {
    struct statfs fs {};
    if (::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == 0x63677270 /* CGROUP2_SUPER_MAGIC */)
        return 2;
    return 1;
}

std::string os_name() {
    try {
        for (const auto& line : split_lines(read_file("/etc/os-release")))
            if (line.starts_with("PRETTY_NAME=")) {
                std::string value = line.substr(12);
                if (value.size() >= 2 && value.front() == '"')
                    value = value.substr(1, value.size() - 2);
                return value;
            }
    } catch (const Error&) {
    }
    return "Linux";
}

std::int64_t total_memory() {
    return static_cast<std::int64_t>(::sysconf(_SC_PHYS_PAGES)) * ::sysconf(_SC_PAGESIZE);
}

void print_json_or_format(const json& document, const std::string& format) {
    if (format.empty()) return;
    std::cout << Template(format).render(document) << "\n";
}

void define_rename(CLI::App* command, GlobalOptions& global) {
    auto names = std::make_shared<std::vector<std::string>>();
    command->add_option("CONTAINER NEW_NAME", *names, "The container and its new name")
        ->required()
        ->expected(2);
    command->callback([&global, names] { open_engine(global).rename((*names)[0], (*names)[1]); });
}

void define_top(CLI::App* command, GlobalOptions& global) {
    command->prefix_command();
    command->fallthrough(false);
    command->callback([&global, command] {
        auto rest = command->remaining();
        if (rest.empty()) fail("\"top\" requires at least 1 argument: CONTAINER [ps OPTIONS]");
        std::vector<std::string> ps_options(rest.begin() + 1, rest.end());
        auto pids = open_engine(global).processes(rest.front());
        std::set<std::string> wanted;
        for (pid_t pid : pids)
            wanted.insert(std::to_string(pid));
        // Docker runs the host's ps and keeps the rows of the container's pids.
        std::vector<std::string> args = {"ps"};
        if (ps_options.empty()) args.push_back("-ef");
        args.insert(args.end(), ps_options.begin(), ps_options.end());
        auto lines = split_lines(output_of(args));
        if (lines.empty()) fail("ps printed nothing");
        auto header = split_words(lines[0]);
        auto pid_column = std::find(header.begin(), header.end(), "PID");
        if (pid_column == header.end()) fail("top: the ps options must show a PID column");
        std::size_t column = static_cast<std::size_t>(pid_column - header.begin());
        // Docker splits each row into the header's columns (the last, the
        // command, keeps its spaces) and lines them up 20 wide.
        std::vector<std::vector<std::string>> cells = {header};
        for (std::size_t i = 1; i < lines.size(); ++i) {
            auto words = split_words(lines[i]);
            if (words.size() <= column || !wanted.contains(words[column])) continue;
            if (words.size() > header.size()) {
                std::string last = lines[i];
                for (std::size_t skip = 0; skip + 1 < header.size(); ++skip) {
                    last.erase(0, last.find_first_not_of(' '));
                    last.erase(0, last.find(' '));
                }
                last.erase(0, last.find_first_not_of(' '));
                words.resize(header.size() - 1);
                words.push_back(last);
            }
            cells.push_back(words);
        }
        std::cout << table(cells, 20);
    });
}

// "CONTAINER:PATH" -> {CONTAINER, PATH}; a local path gives {"", path}.
std::pair<std::string, std::string> copy_operand(const std::string& text) {
    // Docker's rule: a path that starts with "/" or "." is local even with a ':'.
    if (text.empty() || text.front() == '/' || text.front() == '.') return {"", text};
    auto colon = text.find(':');
    if (colon == std::string::npos) return {"", text};
    return {text.substr(0, colon), text.substr(colon + 1)};
}

void define_copy(CLI::App* command, GlobalOptions& global) {
    auto operands = std::make_shared<std::vector<std::string>>();
    command
        ->add_option("SRC DEST", *operands,
                     "CONTAINER:SRC_PATH DEST_PATH, or SRC_PATH CONTAINER:DEST_PATH")
        ->required()
        ->expected(2);
    command->callback([&global, operands] {
        auto [source_container, source_path] = copy_operand((*operands)[0]);
        auto [target_container, target_path] = copy_operand((*operands)[1]);
        if (!source_container.empty() && !target_container.empty())
            fail("copying between containers is not supported");
        if (source_container.empty() && target_container.empty())
            fail("must specify at least one container source");
        auto engine = open_engine(global);
        if (!source_container.empty())
            engine.copy_from_container(source_container, source_path, target_path);
        else
            engine.copy_to_container(source_path, target_container, target_path);
    });
}

void define_export(CLI::App* command, GlobalOptions& global) {
    auto reference = std::make_shared<std::string>();
    auto output = std::make_shared<std::string>();
    command->add_option("-o,--output", *output, "Write to a file instead of standard output");
    command->add_option("CONTAINER", *reference, "Container")->required();
    command->callback([&global, reference, output] {
        auto engine = open_engine(global);
        if (output->empty()) {
            if (::isatty(STDOUT_FILENO))
                fail("cowardly refusing to save to a terminal. Use the -o flag or redirect");
            engine.export_filesystem(*reference, STDOUT_FILENO);
            return;
        }
        // Written beside and renamed: a failed export leaves no half file.
        std::string temporary = *output + ".berth-tmp";
        UniqueFd file = open_fd(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        try {
            engine.export_filesystem(*reference, file.get());
        } catch (...) {
            ::unlink(temporary.c_str());
            throw;
        }
        file.reset();
        if (::rename(temporary.c_str(), output->c_str()) < 0) {
            ::unlink(temporary.c_str());
            throw_errno("renaming " + temporary + " to " + *output);
        }
    });
}

void define_diff(CLI::App* command, GlobalOptions& global) {
    auto reference = std::make_shared<std::string>();
    command->add_option("CONTAINER", *reference, "Container")->required();
    command->callback([&global, reference] {
        for (const auto& [kind, path] : open_engine(global).diff(*reference))
            std::cout << kind << " " << path << "\n";
    });
}

// `container prune --filter`, as docker's: until=TIME (created before; RFC
// 3339, Unix time or a duration ago), label=KEY[=VALUE], label!=KEY[=VALUE].
std::function<bool(const engine::ContainerRecord&)>
prune_filter(const std::vector<std::string>& filters) {
    double until = INFINITY;
    std::vector<std::pair<std::string, bool>> labels; // "k" or "k=v", wanted or not
    for (const auto& filter : filters) {
        auto equals = filter.find('=');
        if (equals == std::string::npos)
            fail("bad format of filter (expected name=value): " + filter);
        std::string key = filter.substr(0, equals), value = filter.substr(equals + 1);
        if (key == "until")
            until = std::min(until, parse_time_bound(value, "until"));
        else if (key == "label" || key == "label!")
            labels.emplace_back(value, key == "label");
        else
            fail("invalid filter '" + key + "'");
    }
    return [until, labels](const engine::ContainerRecord& record) {
        if (!(seconds_of_rfc3339(record.created) < until)) return false;
        json request = json::parse(record.config_json, nullptr, false);
        auto own = request.is_object() ? engine::run_request_from_json(request).options.labels
                                       : std::map<std::string, std::string>();
        for (const auto& [label, wanted] : labels) {
            auto equals = label.find('=');
            auto found = own.find(label.substr(0, equals));
            bool has = found != own.end() &&
                       (equals == std::string::npos || found->second == label.substr(equals + 1));
            if (has != wanted) return false;
        }
        return true;
    };
}

void define_container_prune(CLI::App* command, GlobalOptions& global) {
    auto force = std::make_shared<bool>(false);
    auto filters = std::make_shared<std::vector<std::string>>();
    command->add_flag("-f,--force", *force, "Do not ask for confirmation");
    command
        ->add_option("--filter", *filters,
                     "Filter: until=TIME (created before), label=KEY[=VALUE], label!=KEY[=VALUE]")
        ->allow_extra_args(false);
    command->callback([&global, force, filters] {
        auto wanted = prune_filter(*filters);
        if (!*force && !confirmed("WARNING! This will remove all stopped containers.")) return;
        std::uint64_t freed = 0;
        auto removed = open_engine(global).prune_containers(freed, wanted);
        if (!removed.empty()) {
            std::cout << "Deleted Containers:\n";
            for (const auto& id : removed)
                std::cout << id << "\n";
            std::cout << "\n";
        }
        std::cout << "Total reclaimed space: " << human_size(static_cast<std::int64_t>(freed))
                  << "\n";
    });
}

json version_json() {
    utsname host{};
    ::uname(&host);
    json part = {{"Version", BERTH_VERSION},
                 {"ApiVersion", api_version},
                 {"Os", "linux"},
                 {"Arch", host.machine},
                 {"KernelVersion", host.release}};
    json engine = part;
    engine["Components"] = {{{"Name", "berth-runtime"}, {"Version", BERTH_VERSION}}};
    return {{"Client", part}, {"Server", engine}};
}

void define_version(CLI::App* command) {
    auto format = std::make_shared<std::string>();
    command->add_option("-f,--format", *format,
                        "Go-template-like format, e.g. {{.Client.Version}}");
    command->callback([format] {
        json version = version_json();
        if (!format->empty()) return print_json_or_format(version, *format);
        const json& client = version["Client"];
        std::cout << "Client:\n Version:           " << client["Version"].get<std::string>()
                  << "\n API version:       " << api_version << "\n OS/Arch:           linux/"
                  << client["Arch"].get<std::string>()
                  << "\n\nServer: (none: berth has no daemon)\n Engine:\n  Version:          "
                  << client["Version"].get<std::string>()
                  << "\n  Kernel Version:   " << client["KernelVersion"].get<std::string>()
                  << "\n berth-runtime:\n  Version:          " << BERTH_VERSION
                  << " (in-process)\n";
    });
}

json info_json(GlobalOptions& global) {
    auto engine = open_engine(global);
    int running = 0, stopped = 0, total = 0;
    for (const auto& record : engine.list()) {
        ++total;
        if (record.state == engine::ContainerState::running)
            ++running;
        else
            ++stopped;
    }
    std::size_t images = open_store(global)->list().size();
    utsname host{};
    ::uname(&host);
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    return {{"Containers", total},
            {"ContainersRunning", running},
            {"ContainersPaused", 0},
            {"ContainersStopped", stopped},
            {"Images", images},
            {"Driver", "overlay"},
            {"LoggingDriver", "json-file"},
            {"CgroupDriver", "cgroupfs"},
            {"CgroupVersion", std::to_string(cgroup_version())},
            {"DefaultRuntime", "berth"},
            {"SecurityOptions", {"name=seccomp,profile=builtin"}},
            {"KernelVersion", host.release},
            {"OperatingSystem", os_name()},
            {"OSType", "linux"},
            {"Architecture", host.machine},
            {"NCPU", ::sysconf(_SC_NPROCESSORS_ONLN)},
            {"MemTotal", total_memory()},
            {"Name", name},
            {"DockerRootDir", engine.options().root},
            {"ServerVersion", BERTH_VERSION}};
}

void define_info(CLI::App* command, GlobalOptions& global) {
    auto format = std::make_shared<std::string>();
    command->add_option("-f,--format", *format, "Go-template-like format, e.g. {{.NCPU}}");
    command->callback([&global, format] {
        json info = info_json(global);
        if (!format->empty()) return print_json_or_format(info, *format);
        auto text = [&](const char* key) {
            const json& value = info[key];
            return value.is_string() ? value.get<std::string>() : value.dump();
        };
        std::cout << "Client:\n Version:    " << BERTH_VERSION << "\n\nServer:\n"
                  << " Containers: " << text("Containers")
                  << "\n  Running: " << text("ContainersRunning")
                  << "\n  Paused: " << text("ContainersPaused")
                  << "\n  Stopped: " << text("ContainersStopped") << "\n Images: " << text("Images")
                  << "\n Server Version: " << text("ServerVersion")
                  << "\n Storage Driver: overlay\n Logging Driver: json-file\n Cgroup Driver: "
                     "cgroupfs\n Cgroup Version: "
                  << text("CgroupVersion")
                  << "\n Runtimes: berth\n Default Runtime: berth\n Security Options:\n  seccomp\n"
                     "   Profile: builtin\n Kernel Version: "
                  << text("KernelVersion") << "\n Operating System: " << text("OperatingSystem")
                  << "\n OSType: linux\n Architecture: " << text("Architecture")
                  << "\n CPUs: " << text("NCPU")
                  << "\n Total Memory: " << human_size(info["MemTotal"].get<std::int64_t>())
                  << "\n Name: " << text("Name") << "\n Docker Root Dir: " << text("DockerRootDir")
                  << "\n";
    });
}

void define_system_df(CLI::App* command, GlobalOptions& global) {
    auto format = std::make_shared<std::string>();
    command->add_option("--format", *format, "Go-template-like format: {{.Type}} {{.Size}} ...");
    command->callback([&global, format] {
        auto engine = open_engine(global);
        auto containers = engine.list();
        std::set<std::string> used_images;
        std::uint64_t containers_size = 0, containers_reclaimable = 0;
        int containers_active = 0;
        for (const auto& record : containers) {
            used_images.insert(record.image_id);
            std::uint64_t size = engine.container_size(record.id);
            containers_size += size;
            if (record.state == engine::ContainerState::running)
                ++containers_active;
            else
                containers_reclaimable += size;
        }
        auto images = open_store(global)->list();
        std::uint64_t images_size = 0, images_reclaimable = 0;
        int images_active = 0;
        for (const auto& image : images) {
            images_size += static_cast<std::uint64_t>(image.size);
            if (used_images.contains(image.id.str()))
                ++images_active;
            else
                images_reclaimable += static_cast<std::uint64_t>(image.size);
        }
        auto volumes = engine.list_volumes();
        std::uint64_t volumes_size = 0, volumes_reclaimable = 0;
        int volumes_active = 0;
        for (const auto& volume : volumes) {
            auto size =
                static_cast<std::uint64_t>(tree_size(engine.volume_mountpoint(volume.name)));
            volumes_size += size;
            if (!engine.volume_users(volume.name).empty())
                ++volumes_active;
            else
                volumes_reclaimable += size;
        }
        auto row = [](const char* type, std::size_t total, int active, std::uint64_t size,
                      std::uint64_t reclaimable) {
            return json{{"Type", type},
                        {"TotalCount", std::to_string(total)},
                        {"Active", std::to_string(active)},
                        {"Size", human_size(static_cast<std::int64_t>(size))},
                        {"Reclaimable", reclaimable_text(reclaimable, size)}};
        };
        std::vector<json> rows = {
            row("Images", images.size(), images_active, images_size, images_reclaimable),
            row("Containers", containers.size(), containers_active, containers_size,
                containers_reclaimable),
            row("Local Volumes", volumes.size(), volumes_active, volumes_size, volumes_reclaimable),
            row("Build Cache", 0, 0, 0, 0)};
        if (!format->empty()) {
            std::cout << format_rows(Template(*format), rows, {{"TotalCount", "TOTAL"}});
            return;
        }
        std::vector<std::vector<std::string>> cells = {
            {"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"}};
        for (const auto& item : rows)
            cells.push_back({item["Type"], item["TotalCount"], item["Active"], item["Size"],
                             item["Reclaimable"]});
        std::cout << table(cells);
    });
}

} // namespace

void add_admin_commands(CLI::App& app, GlobalOptions& global) {
    define_rename(app.add_subcommand("rename", "Rename a container"), global);
    define_rename(container_group(app).add_subcommand("rename", "Rename a container"), global);
    define_top(app.add_subcommand("top", "Show a container's processes"), global);
    define_top(container_group(app).add_subcommand("top", "Show a container's processes"), global);
    define_copy(app.add_subcommand("cp", "Copy files between a container and the host"), global);
    define_copy(
        container_group(app).add_subcommand("cp", "Copy files between a container and the host"),
        global);
    define_export(app.add_subcommand("export", "Write a container's filesystem as a tar"), global);
    define_export(
        container_group(app).add_subcommand("export", "Write a container's filesystem as a tar"),
        global);
    define_diff(app.add_subcommand("diff", "Show a container's changes to its image"), global);
    define_diff(
        container_group(app).add_subcommand("diff", "Show a container's changes to its image"),
        global);
    define_container_prune(
        container_group(app).add_subcommand("prune", "Remove all stopped containers"), global);
    define_version(app.add_subcommand("version", "Show berth's version"));
    define_info(app.add_subcommand("info", "Show system-wide information"), global);
    CLI::App* system = app.add_subcommand("system", "Manage berth");
    system->require_subcommand(1);
    define_info(system->add_subcommand("info", "Show system-wide information"), global);
    define_system_df(system->add_subcommand("df", "Show disk usage"), global);
    define_system_prune(system->add_subcommand("prune", "Remove unused data"), global);
}

} // namespace berth::cli
