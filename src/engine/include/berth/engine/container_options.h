// The parts of a RunRequest beyond the process and its limits: mounts and
// volumes, rlimits, extra groups, labels, more cgroup knobs, --init and the
// restart policy. Parsed from Docker's flag syntax here (pure functions, unit
// tested and fuzzed) so that the command line only collects strings.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace berth::engine {

struct MountRequest {
    std::string type; // "bind", "volume" or "tmpfs"
    std::string
        source; // host path (bind) or volume name (volume; "" until an anonymous one is named)
    std::string target; // absolute path in the container
    bool read_only = false;
    bool anonymous = false;     // `-v /dst`: removed with `rm -v` and `--rm`
    bool create_source = false; // -v makes a missing bind source; --mount refuses
    bool no_copy = false;       // volume-nocopy / nocopy: no copy of the image's content
    std::string propagation;    // bind: "rprivate" (default), "shared", "rslave"...
    std::vector<std::string> tmpfs_options; // "size=64m", "mode=1777", "noexec"...
};

struct Ulimit {
    std::string name; // Docker's: "nofile", "nproc", "core"...
    std::int64_t soft = 0, hard = 0;
};

struct RestartPolicy {
    std::string name = "no"; // "no", "always", "unless-stopped", "on-failure"
    int maximum_retries = 0; // on-failure:N; 0 is no limit
};

struct ContainerOptions {
    std::vector<MountRequest> mounts;
    std::vector<Ulimit> ulimits;
    std::vector<std::string> group_add; // names (from the image's /etc/group) or numbers
    std::map<std::string, std::string> labels;
    std::int64_t memory_swap = 0; // bytes of memory + swap; -1 unlimited; 0 default
    std::int64_t cpu_shares = 0;
    std::string cpuset_cpus;
    bool init = false;
    RestartPolicy restart;
};

void to_json(nlohmann::json& json, const ContainerOptions& options);
void from_json(const nlohmann::json& json, ContainerOptions& options);
nlohmann::json to_json(const MountRequest& mount);

// `-v SRC:DST[:OPTS]` or `-v DST` (anonymous volume). A SRC starting with
// "/" is a host path, else a volume name.
MountRequest parse_volume_flag(const std::string& text);
// `--mount type=bind|volume|tmpfs,source=..,target=..,readonly,...`.
MountRequest parse_mount_flag(const std::string& text);
// `--tmpfs /dst[:opt,opt]`.
MountRequest parse_tmpfs_flag(const std::string& text);
// `--ulimit nofile=1024[:2048]`.
Ulimit parse_ulimit(const std::string& text);
// `--restart no|always|unless-stopped|on-failure[:N]`.
RestartPolicy parse_restart_policy(const std::string& text);
// `-l key=value` or `-l key` (empty value), as Docker.
std::pair<std::string, std::string> parse_label(const std::string& text);
// "0-3,5": Error on anything else.
void check_cpuset(const std::string& text);

// Docker's rule for local volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+.
bool is_valid_volume_name(const std::string& name);

} // namespace berth::engine
