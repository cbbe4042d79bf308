#include "run_option_flags.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/text.h"
#include "berth/engine/oci_spec_builder.h"

#include <cstdlib>

namespace berth::cli {

std::vector<std::string> parse_env_file(const std::string& text, const std::string& path) {
    std::vector<std::string> env;
    for (std::string line : split_lines(text)) {
        std::size_t start = line.find_first_not_of(" \t");
        if (start == std::string::npos) continue;
        line.erase(0, start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line.front() == '#') continue;
        auto equals = line.find('=');
        std::string key = line.substr(0, equals);
        if (key.empty()) fail(path + ": no variable name in \"" + line + "\"");
        if (key.find_first_of(" \t") != std::string::npos)
            fail(path + ": variable '" + key + "' contains whitespaces");
        if (equals != std::string::npos) {
            env.push_back(line);
        } else if (const char* value = std::getenv(key.c_str())) {
            env.push_back(key + "=" + value);
        }
    }
    return env;
}

void add_option_flags(CLI::App& command, OptionFlags& flags, engine::RunRequest& request) {
    auto one_each = [](CLI::Option* option) { return option->allow_extra_args(false); };
    auto& options = request.options;
    one_each(command.add_option("-v,--volume", flags.volumes,
                                "Bind a host path (/src:/dst[:ro]) or a volume (name:/dst, /dst)"));
    one_each(command.add_option("--mount", flags.mounts,
                                "type=bind|volume|tmpfs,source=..,target=..[,readonly]"));
    one_each(command.add_option("--tmpfs", flags.tmpfs, "Mount a tmpfs (/dst[:options])"));
    one_each(command.add_option("--env-file", flags.env_files,
                                "Read environment variables from a file"));
    one_each(
        command.add_option("--ulimit", flags.ulimits, "Resource limit (e.g. nofile=1024:2048)"));
    one_each(command.add_option("--group-add", options.group_add, "Add a supplementary group"));
    one_each(command.add_option("-l,--label", flags.labels, "Set a label (key=value)"));
    one_each(command.add_option("--label-file", flags.label_files, "Read labels from a file"));
    command.add_option("--memory-swap", flags.memory_swap,
                       "Memory plus swap limit (-1: unlimited swap)");
    command.add_option("-c,--cpu-shares", options.cpu_shares, "CPU shares (relative weight)");
    command.add_option("--cpuset-cpus", options.cpuset_cpus, "CPUs to run on (0-3, 0,1)");
    command.add_flag("--init", options.init,
                     "Run berth-init as PID 1: it reaps zombies and forwards signals");
    command.add_option("--restart", flags.restart,
                       "Restart policy: no, always, unless-stopped, on-failure[:max-retries]");
}

void finish_option_flags(const OptionFlags& flags, engine::RunRequest& request) {
    auto& options = request.options;
    for (const auto& text : flags.volumes)
        options.mounts.push_back(engine::parse_volume_flag(text));
    for (const auto& text : flags.mounts)
        options.mounts.push_back(engine::parse_mount_flag(text));
    for (const auto& text : flags.tmpfs)
        options.mounts.push_back(engine::parse_tmpfs_flag(text));
    std::vector<std::string> from_files;
    for (const auto& path : flags.env_files) {
        auto env = parse_env_file(
            with_context("reading the env file " + path, [&] { return read_file(path); }), path);
        from_files.insert(from_files.end(), env.begin(), env.end());
    }
    request.env.insert(request.env.begin(), from_files.begin(), from_files.end());
    for (const auto& text : flags.ulimits)
        options.ulimits.push_back(engine::parse_ulimit(text));
    for (const auto& path : flags.label_files)
        for (const auto& line : split_lines(
                 with_context("reading the label file " + path, [&] { return read_file(path); })))
            if (!line.empty() && line.front() != '#') {
                auto [key, value] = engine::parse_label(line);
                options.labels[key] = value;
            }
    for (const auto& text : flags.labels) {
        auto [key, value] = engine::parse_label(text);
        options.labels[key] = value;
    }
    if (!flags.memory_swap.empty())
        options.memory_swap =
            flags.memory_swap == "-1" ? -1 : engine::parse_memory_size(flags.memory_swap);
    options.restart = engine::parse_restart_policy(flags.restart);
    if (!options.cpuset_cpus.empty()) engine::check_cpuset(options.cpuset_cpus);
}

} // namespace berth::cli
