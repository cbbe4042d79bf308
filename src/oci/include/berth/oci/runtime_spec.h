// The OCI runtime specification's config.json, as plain data.
// Field names follow the spec (camelCase there, snake_case here).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::oci {

struct User {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::optional<std::uint32_t> umask;
    std::vector<std::uint32_t> additional_gids;
};

struct Rlimit {
    std::string type; // "RLIMIT_NOFILE"
    int resource = 0; // RLIMIT_NOFILE
    std::uint64_t soft = 0;
    std::uint64_t hard = 0;
};

struct Capabilities {
    std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct ConsoleSize {
    unsigned height = 0;
    unsigned width = 0;
};

struct IoPriority {
    std::string io_class; // "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"
    int priority = 0;
};

struct Scheduler {
    std::string policy; // "SCHED_OTHER", "SCHED_FIFO", ...
    int nice = 0;
    int priority = 0;
    std::vector<std::string> flags;
    std::uint64_t runtime = 0, deadline = 0, period = 0;
};

struct Process {
    bool terminal = false;
    std::optional<ConsoleSize> console_size;
    User user;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string cwd = "/";
    std::optional<Capabilities> capabilities;
    std::vector<Rlimit> rlimits;
    bool no_new_privileges = false;
    std::optional<int> oom_score_adj;
    std::string apparmor_profile;
    std::string selinux_label;
    std::optional<IoPriority> io_priority;
    std::optional<Scheduler> scheduler;
};

struct Root {
    std::string path = "rootfs";
    bool readonly = false;
};

struct Mount {
    std::string destination;
    std::string type;
    std::string source;
    std::vector<std::string> options;
};

struct Hook {
    std::string path;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::optional<int> timeout_seconds;
};

struct Hooks {
    std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart,
        poststop;
};

struct Namespace {
    std::string type; // "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"
    std::string path; // join this one instead of creating a new one
};

struct IdMapping {
    std::uint32_t container_id = 0;
    std::uint32_t host_id = 0;
    std::uint32_t size = 0;
};

struct Device {
    std::string type; // "c", "b", "u" or "p"
    std::string path;
    std::int64_t major = 0;
    std::int64_t minor = 0;
    std::optional<std::uint32_t> file_mode;
    std::optional<std::uint32_t> uid;
    std::optional<std::uint32_t> gid;
};

struct TimeOffset {
    std::int64_t secs = 0;
    std::uint32_t nanosecs = 0;
};

struct Linux {
    std::vector<Namespace> namespaces;
    std::vector<IdMapping> uid_mappings;
    std::vector<IdMapping> gid_mappings;
    std::vector<Device> devices;
    std::map<std::string, std::string> sysctl;
    std::vector<std::string> masked_paths;
    std::vector<std::string> readonly_paths;
    std::string rootfs_propagation;
    std::string cgroups_path;
    std::string mount_label;
    std::map<std::string, TimeOffset> time_offsets; // "monotonic", "boottime"
    // Parts a later stage interprets whole; kept as JSON until then.
    nlohmann::json resources;
    nlohmann::json seccomp;
    nlohmann::json intel_rdt;
    // linux.personality: "LINUX" or "LINUX32", and flags (none are defined yet).
    std::string personality_domain;
    std::vector<std::string> personality_flags;

    const Namespace* find_namespace(std::string_view type) const;
};

struct Spec {
    std::string oci_version;
    std::optional<Process> process;
    Root root;
    std::string hostname;
    std::string domainname;
    std::vector<Mount> mounts;
    Hooks hooks;
    std::map<std::string, std::string> annotations;
    Linux linux;
};

// Parses and validates config.json; errors name the field:
// "process.args: expected an array of strings".
Spec parse_spec(std::string_view json_text);

// Parses a process object alone, as `exec --process FILE` gives it.
Process parse_process_json(std::string_view json_text);

// The resource number of an RLIMIT_* name, or -1.
int rlimit_resource(std::string_view name);

} // namespace berth::oci
