#include "arguments.h"
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/log.h"
#include "berth/runtime/runtime.h"
#include "berth/runtime_cli/main.h"
#include "documents.h"
#include "resource_flags.h"
#include "version.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace berth::runtime_cli {

namespace {

// stdio, not iostreams: iostreams would bring the locale machinery into
// this static binary's memory for nothing.
void print(std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
}

const std::vector<FlagSpec> global_flags = {
    {{"root"}, true},
    {{"log"}, true},
    {{"log-format"}, true},
    {{"debug"}, false},
    {{"systemd-cgroup"}, false},
    {{"rootless"}, true},
    {{"criu"}, true},
    {{"version", "v"}, false},
    {{"help", "h"}, false},
};

const char* const usage_text =
    "berth-runtime: an OCI runtime with runc's command line\n\n"
    "usage: berth-runtime [global options] command [command options] [arguments...]\n\n"
    "commands:\n"
    "  create    create a container (waits for start)\n"
    "  start     run the process of a created container\n"
    "  run       create and start a container, wait for it unless --detach\n"
    "  exec      run another process in a running container\n"
    "  state     print the state of a container as JSON\n"
    "  kill      send a signal to a container's init (default SIGTERM)\n"
    "  delete    delete a stopped container (--force: kill it first)\n"
    "  list      list containers\n"
    "  ps        list the processes of a container (--format json)\n"
    "  pause     freeze every process of a container\n"
    "  resume    thaw a paused container\n"
    "  update    change a container's resource limits\n"
    "  events    print stats (--stats once) and OOM events\n"
    "  spec      write a new config.json\n"
    "  features  print the features this runtime supports\n\n"
    "global options:\n"
    "  --root DIR         state directory (default /run/berth-runtime, or\n"
    "                     $XDG_RUNTIME_DIR/berth-runtime when not root)\n"
    "  --log FILE         log to FILE (default stderr)\n"
    "  --log-format F     text or json\n"
    "  --debug            log debug messages\n"
    "  --version, -v      print the version\n";

// /run/berth-runtime for root; an unprivileged user's own runtime directory
// otherwise, as runc and crun do.
std::string default_state_root() {
    const char* runtime_dir = std::getenv("XDG_RUNTIME_DIR");
    if (::geteuid() != 0 && runtime_dir && *runtime_dir)
        return std::string(runtime_dir) + "/berth-runtime";
    return "/run/berth-runtime";
}

struct Context {
    runtime::Runtime runtime;
    Arguments args;
};

std::string required_id(const Arguments& args, const char* command) {
    if (args.positional.empty())
        fail(std::string("\"") + command + "\" requires a container id as its argument");
    return args.positional[0];
}

runtime::CreateOptions create_options(const Arguments& args, const char* command) {
    runtime::CreateOptions options;
    options.id = required_id(args, command);
    options.bundle = args.value("bundle", ".");
    options.pid_file = args.value("pid-file");
    options.console_socket = args.value("console-socket");
    options.no_pivot = args.has("no-pivot");
    options.no_new_keyring = args.has("no-new-keyring");
    std::string preserve = args.value("preserve-fds", "0");
    try {
        options.preserve_fds = std::stoi(preserve);
    } catch (...) {
        fail("--preserve-fds: not a number: " + preserve);
    }
    if (options.preserve_fds < 0) fail("--preserve-fds: must not be negative");
    return options;
}

const std::vector<FlagSpec> create_flags = {
    {{"bundle", "b"}, true},  {{"pid-file"}, true},        {{"console-socket"}, true},
    {{"no-pivot"}, false},    {{"no-new-keyring"}, false}, {{"preserve-fds"}, true},
    {{"detach", "d"}, false}, {{"keep"}, false},           {{"no-subreaper"}, false},
};

int command_create(runtime::Runtime& runtime, const Arguments& args) {
    runtime.create(create_options(args, "create"));
    return 0;
}

int command_run(runtime::Runtime& runtime, const Arguments& args) {
    return runtime.run(create_options(args, "run"), args.has("detach"));
}

const std::vector<FlagSpec> exec_flags = {
    {{"process", "p"}, true},   {{"console-socket"}, true}, {{"pid-file"}, true},
    {{"detach", "d"}, false},   {{"tty", "t"}, false},      {{"cwd"}, true},
    {{"env", "e"}, true},       {{"user", "u"}, true},      {{"additional-gids", "g"}, true},
    {{"cap", "c"}, true},       {{"no-new-privs"}, false},  {{"preserve-fds"}, true},
    {{"apparmor"}, true},       {{"process-label"}, true},  {{"cgroup"}, true},
    {{"ignore-paused"}, false},
};

int command_exec(runtime::Runtime& runtime, const Arguments& args) {
    runtime::ExecOptions options;
    options.id = required_id(args, "exec");
    options.args.assign(args.positional.begin() + 1, args.positional.end());
    if (args.has("process")) {
        std::string path = args.value("process");
        options.process_json = path == "-" ? read_all(STDIN_FILENO) : read_file(path);
    }
    options.env = args.all("env");
    if (args.has("cwd")) options.cwd = args.value("cwd");
    if (args.has("user")) options.user = args.value("user");
    for (const auto& gid : args.all("additional-gids")) {
        try {
            options.additional_gids.push_back(static_cast<unsigned>(std::stoul(gid)));
        } catch (...) {
            fail("--additional-gids: not a number: " + gid);
        }
    }
    options.add_capabilities = args.all("cap");
    options.no_new_privileges = args.has("no-new-privs");
    options.tty = args.has("tty");
    options.console_socket = args.value("console-socket");
    options.pid_file = args.value("pid-file");
    options.detach = args.has("detach");
    try {
        options.preserve_fds = std::stoi(args.value("preserve-fds", "0"));
    } catch (...) {
        fail("--preserve-fds: not a number");
    }
    if (args.has("apparmor") && !args.value("apparmor").empty())
        fail("--apparmor: this host has no AppArmor support in berth-runtime");
    if (args.has("process-label") && !args.value("process-label").empty())
        fail("--process-label: this host has no SELinux support in berth-runtime");
    options.sub_cgroups = args.all("cgroup");
    return runtime.exec(options);
}

int command_ps(runtime::Runtime& runtime, const Arguments& args) {
    std::vector<pid_t> pids = runtime.processes(required_id(args, "ps"));
    if (args.value("format", "table") == "json") {
        print(nlohmann::json(pids).dump() + "\n");
        return 0;
    }
    print("PID\n");
    for (pid_t pid : pids)
        print(std::to_string(pid) + "\n");
    return 0;
}

int command_pause(runtime::Runtime& runtime, const Arguments& args) {
    runtime.pause(required_id(args, "pause"));
    return 0;
}

int command_resume(runtime::Runtime& runtime, const Arguments& args) {
    runtime.resume(required_id(args, "resume"));
    return 0;
}

const std::vector<FlagSpec> update_flags = {
    {{"resources", "r"}, true},     {{"memory"}, true},         {{"memory-swap"}, true},
    {{"memory-reservation"}, true}, {{"kernel-memory"}, true},  {{"kernel-memory-tcp"}, true},
    {{"cpu-shares"}, true},         {{"cpu-quota"}, true},      {{"cpu-period"}, true},
    {{"cpu-rt-period"}, true},      {{"cpu-rt-runtime"}, true}, {{"cpuset-cpus"}, true},
    {{"cpuset-mems"}, true},        {{"pids-limit"}, true},     {{"blkio-weight"}, true},
    {{"l3-cache-schema"}, true},    {{"mem-bw-schema"}, true},
};

int command_update(runtime::Runtime& runtime, const Arguments& args) {
    std::string id = required_id(args, "update");
    if (args.has("l3-cache-schema") || args.has("mem-bw-schema"))
        fail("update: Intel RDT is not supported by berth-runtime");
    std::string resources;
    if (args.has("resources")) {
        std::string path = args.value("resources");
        resources = path == "-" ? read_all(STDIN_FILENO) : read_file(path);
    } else {
        resources = resources_from_flags(args).dump();
    }
    runtime.update(id, resources);
    return 0;
}

void print_line(const std::string& line) {
    print(line + "\n");
    std::fflush(stdout);
}

int command_events(runtime::Runtime& runtime, const Arguments& args) {
    std::string id = required_id(args, "events");
    if (args.has("stats")) {
        print(runtime.stats(id) + "\n");
        return 0;
    }
    int interval_ms = parse_duration_ms(args.value("interval", "5s"));
    runtime.watch_events(id, interval_ms, print_line);
    return 0;
}

int command_start(runtime::Runtime& runtime, const Arguments& args) {
    runtime.start(required_id(args, "start"));
    return 0;
}

int command_state(runtime::Runtime& runtime, const Arguments& args) {
    print(oci::state_to_json(runtime.state(required_id(args, "state")), true) + "\n");
    return 0;
}

int command_kill(runtime::Runtime& runtime, const Arguments& args) {
    std::string id = required_id(args, "kill");
    int signal = runtime::parse_signal(args.positional.size() > 1 ? args.positional[1] : "TERM");
    runtime.kill(id, signal, args.has("all"));
    return 0;
}

int command_delete(runtime::Runtime& runtime, const Arguments& args) {
    runtime.remove(required_id(args, "delete"), args.has("force"));
    return 0;
}

int command_list(runtime::Runtime& runtime, const Arguments& args) {
    std::vector<oci::State> states = runtime.list();
    if (args.has("quiet")) {
        for (const auto& state : states)
            print(state.id + "\n");
        return 0;
    }
    std::string format = args.value("format", "table");
    if (format == "json") {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& state : states)
            out.push_back(nlohmann::json::parse(oci::state_to_json(state)));
        print((states.empty() ? std::string("null") : out.dump()) + "\n");
        return 0;
    }
    if (format != "table") fail("invalid format option \"" + format + "\"");
    std::printf("%-12s %-8s %-10s %-40s %-31s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
                "OWNER");
    for (const auto& state : states)
        std::printf("%-12s %-8d %-10s %-40s %-31s %s\n", state.id.c_str(), state.pid,
                    oci::status_name(state.status), state.bundle.c_str(), state.created.c_str(),
                    state.owner.c_str());
    return 0;
}

int command_spec(const Arguments& args) {
    std::string bundle = args.value("bundle", ".");
    std::string path = bundle + "/config.json";
    if (path_exists(path)) fail("File " + path + " exists. Remove it first");
    write_file_atomic(path, default_spec(args.has("rootless"), ::geteuid(), ::getegid()), 0666);
    return 0;
}

void print_version() {
    print(std::string("berth-runtime version ") + runtime_version + "\ncommit: " + git_commit +
          "\nspec: " + spec_version + "\n");
}

struct Command {
    const char* name;
    std::vector<FlagSpec> flags;
    int (*run)(runtime::Runtime&, const Arguments&);
};

const std::vector<Command>& commands() {
    static const std::vector<Command> table = {
        {"create", create_flags, command_create},
        {"run", create_flags, command_run},
        {"start", {}, command_start},
        {"state", {}, command_state},
        {"kill", {{{"all", "a"}, false}}, command_kill},
        {"delete", {{{"force", "f"}, false}}, command_delete},
        {"list", {{{"format", "f"}, true}, {{"quiet", "q"}, false}}, command_list},
        {"exec", exec_flags, command_exec},
        {"ps", {{{"format", "f"}, true}}, command_ps},
        {"pause", {}, command_pause},
        {"resume", {}, command_resume},
        {"update", update_flags, command_update},
        {"events", {{{"stats"}, false}, {{"interval"}, true}}, command_events},
        {"checkpoint", {}, nullptr},
        {"restore", {}, nullptr},
    };
    return table;
}

int dispatch(const std::vector<std::string>& args, char** argv) {
    std::size_t next = 1;
    Arguments global = parse_arguments(args, 1, global_flags, true, &next);
    std::string format = global.value("log-format", "text");
    if (format != "text" && format != "json") fail("invalid log format \"" + format + "\"");
    log::configure(global.value("log"), format == "json" ? log::Format::json : log::Format::text,
                   global.has("debug"));
    if (global.has("version")) {
        print_version();
        return 0;
    }
    if (global.has("help") || next >= args.size()) {
        print(usage_text);
        return global.has("help") ? 0 : 1;
    }
    if (global.has("systemd-cgroup"))
        fail("--systemd-cgroup is not supported by berth-runtime: cgroups are managed through "
             "cgroupfs; leave the flag out");
    const std::string& name = args[next];
    if (name == "create" || name == "run" || name == "exec")
        runtime::reexec_from_read_only_binary(argv);
    if (name == "spec")
        return command_spec(parse_arguments(
            args, next + 1, {{{"bundle", "b"}, true}, {{"rootless"}, false}}, false));
    if (name == "features") {
        print(features_document());
        return 0;
    }
    if (name == "help") {
        print(usage_text);
        return 0;
    }
    for (const auto& command : commands()) {
        if (name != command.name) continue;
        if (!command.run)
            fail("\"" + name + "\" is not implemented in this version of berth-runtime");
        Arguments parsed;
        if (name == "exec") {
            // The command to run follows the id and keeps its own flags (sh -c ...).
            std::size_t rest = next + 1;
            parsed = parse_arguments(args, next + 1, command.flags, true, &rest);
            parsed.positional.assign(args.begin() + static_cast<long>(rest), args.end());
        } else {
            parsed = parse_arguments(args, next + 1, command.flags, false);
        }
        runtime::Runtime runtime(global.value("root", default_state_root()));
        return command.run(runtime, parsed);
    }
    fail("No help topic for '" + name + "'");
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv, argv + argc);
    try {
        return dispatch(args, argv);
    } catch (const std::exception& error) {
        log::error(error.what());
        if (log::logging_to_file()) std::fprintf(stderr, "berth-runtime: %s\n", error.what());
        return 1;
    }
}

} // namespace berth::runtime_cli
