#include "berth/engine/oci_spec_builder.h"

#include "berth/runtime/runtime.h"

#include "berth/base/error.h"
#include "berth/base/user_namespace.h"
#include "berth/engine/spec_options.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sys/prctl.h>

namespace berth::engine {

namespace {

using nlohmann::json;

constexpr const char* default_path =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string capability_name(std::string name) {
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (name == "ALL") return name;
    return name.starts_with("CAP_") ? name : "CAP_" + name;
}

json mount(const char* destination, const char* type, const char* source,
           std::vector<std::string> options) {
    return {{"destination", destination}, {"type", type}, {"source", source}, {"options", options}};
}

json bind_file(const char* destination, const std::string& source, bool read_only) {
    std::vector<std::string> options = {"rbind", "rprivate"};
    if (read_only) options.push_back("ro");
    return {
        {"destination", destination}, {"type", "bind"}, {"source", source}, {"options", options}};
}

std::string env_key(const std::string& entry) {
    return entry.substr(0, entry.find('='));
}

void set_env(std::vector<std::string>& env, const std::string& entry) {
    std::string key = env_key(entry);
    for (auto& existing : env)
        if (env_key(existing) == key) {
            existing = entry;
            return;
        }
    env.push_back(entry);
}

bool has_env(const std::vector<std::string>& env, const std::string& key) {
    return std::any_of(env.begin(), env.end(), [&](const auto& e) { return env_key(e) == key; });
}

json resources(const RunRequest& request) {
    json out = json::object();
    if (!request.privileged) {
        // Deny every device but the runtime's defaults (added back by it),
        // and let mknod make any (opening them stays denied), as Docker.
        out["devices"] = {{{"allow", false}, {"access", "rwm"}},
                          {{"allow", true}, {"type", "c"}, {"access", "m"}},
                          {{"allow", true}, {"type", "b"}, {"access", "m"}}};
    }
    if (request.memory_bytes > 0) out["memory"] = {{"limit", request.memory_bytes}};
    if (request.pids_limit > 0) out["pids"] = {{"limit", request.pids_limit}};
    if (request.cpus > 0) {
        constexpr std::int64_t period = 100000;
        out["cpu"] = {{"period", period},
                      {"quota", static_cast<std::int64_t>(std::llround(request.cpus * period))}};
    }
    return out;
}

} // namespace

const std::vector<std::string>& default_capabilities() {
    static const std::vector<std::string> capabilities = {
        "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
        "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
        "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
        "CAP_KILL",    "CAP_AUDIT_WRITE"};
    return capabilities;
}

const std::vector<std::string>& all_capabilities() {
    return runtime::known_capability_names();
}

std::vector<std::string> bounding_capabilities() {
    std::vector<std::string> held;
    const auto& all = all_capabilities();
    for (std::size_t number = 0; number < all.size(); ++number)
        if (::prctl(PR_CAPBSET_READ, number, 0, 0, 0) == 1) held.push_back(all[number]);
    return held;
}

std::vector<std::string> effective_capabilities(const RunRequest& request,
                                                const std::vector<std::string>& host) {
    const auto& everything = host.empty() ? all_capabilities() : host;
    if (request.privileged) return everything;
    auto known = [](const std::string& name) {
        const auto& all = all_capabilities();
        if (name != "ALL" && std::find(all.begin(), all.end(), name) == all.end())
            fail("unknown capability: \"" + name + "\"");
        return name;
    };
    std::vector<std::string> drops, adds;
    for (const auto& name : request.cap_drop)
        drops.push_back(known(capability_name(name)));
    for (const auto& name : request.cap_add)
        adds.push_back(known(capability_name(name)));
    auto listed = [](const std::vector<std::string>& list, const std::string& name) {
        return std::find(list.begin(), list.end(), name) != list.end();
    };
    // Docker: drop ALL empties the set first; adds win over drops of the same name.
    std::vector<std::string> result;
    if (listed(adds, "ALL")) {
        result = everything;
    } else if (!listed(drops, "ALL")) {
        for (const auto& name : default_capabilities())
            if (!listed(drops, name)) result.push_back(name);
    }
    for (const auto& name : adds)
        if (name != "ALL" && !listed(result, name)) result.push_back(name);
    if (listed(adds, "ALL"))
        std::erase_if(result, [&](const auto& name) { return listed(drops, name); });
    return result;
}

std::vector<std::string> process_args(const RunRequest& request,
                                      const oci::ContainerConfig& image) {
    std::vector<std::string> args =
        request.entrypoint_given ? request.entrypoint : image.entrypoint;
    // A new entrypoint drops the image's CMD: it was written for the old one.
    const auto& cmd = !request.command.empty()   ? request.command
                      : request.entrypoint_given ? std::vector<std::string>{}
                                                 : image.cmd;
    args.insert(args.end(), cmd.begin(), cmd.end());
    if (args.empty() || args.front().empty()) fail("no command specified");
    return args;
}

std::vector<std::string> process_env(const RunRequest& request, const oci::ContainerConfig& image,
                                     const SpecInputs& inputs) {
    std::vector<std::string> env;
    if (!has_env(image.env, "PATH")) env.push_back(default_path);
    env.push_back("HOSTNAME=" + inputs.hostname);
    for (const auto& entry : image.env)
        set_env(env, entry);
    for (const auto& entry : request.env)
        set_env(env, entry);
    if (!has_env(env, "HOME")) env.push_back("HOME=" + inputs.user.home);
    // Docker's: a program that asks what terminal it has gets an answer.
    if (request.tty && !has_env(env, "TERM")) env.push_back("TERM=xterm");
    return env;
}

std::string container_cgroups_path(const RunRequest& request, const std::string& id) {
    return (request.cgroup_parent.empty() ? std::string("/berth") : request.cgroup_parent) + "/" +
           id;
}

json build_oci_spec(const RunRequest& request, const oci::ContainerConfig& image,
                    const SpecInputs& inputs) {
    auto capabilities = effective_capabilities(request, inputs.host_capabilities);
    std::string cwd = !request.workdir.empty()     ? request.workdir
                      : !image.working_dir.empty() ? image.working_dir
                                                   : "/";
    if (cwd.front() != '/') fail("the working directory \"" + cwd + "\" is not an absolute path");
    std::uint64_t nofile = std::min<std::uint64_t>(1048576, inputs.nofile_hard_limit);

    json process = {
        {"terminal", request.tty},
        {"user",
         {{"uid", inputs.user.uid},
          {"gid", inputs.user.gid},
          {"umask", 022},
          {"additionalGids", inputs.user.additional_gids}}},
        {"args", process_args(request, image)},
        {"env", process_env(request, image, inputs)},
        {"cwd", cwd},
        {"capabilities",
         {{"bounding", capabilities}, {"effective", capabilities}, {"permitted", capabilities}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"soft", nofile}, {"hard", nofile}}}},
        {"noNewPrivileges", request.no_new_privileges},
    };

    // A rootless namespace without /etc/subgid ranges has no group tty (5).
    std::vector<std::string> devpts_options = {"nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                               "mode=0620"};
    if (group_is_mapped(5)) devpts_options.push_back("gid=5");
    json mounts = json::array({
        mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
        mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
        mount("/dev/pts", "devpts", "devpts", devpts_options),
        mount("/sys", "sysfs", "sysfs",
              request.privileged ? std::vector<std::string>{"nosuid", "noexec", "nodev"}
                                 : std::vector<std::string>{"nosuid", "noexec", "nodev", "ro"}),
        mount("/sys/fs/cgroup", "cgroup", "cgroup",
              {"nosuid", "noexec", "nodev", "relatime", request.privileged ? "rw" : "ro"}),
        mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
        mount("/dev/shm", "tmpfs", "shm",
              {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
    });
    // Docker keeps these writable even in a read-only container.
    mounts.push_back(bind_file("/etc/resolv.conf", inputs.resolv_conf_file, false));
    mounts.push_back(bind_file("/etc/hostname", inputs.hostname_file, false));
    mounts.push_back(bind_file("/etc/hosts", inputs.hosts_file, false));

    json namespaces = json::array();
    for (const char* type : {"pid", "ipc", "uts", "mount"})
        namespaces.push_back({{"type", type}});
    if (request.network != "host") {
        json network = {{"type", "network"}};
        if (!inputs.netns_path.empty()) network["path"] = inputs.netns_path;
        namespaces.push_back(network);
    }

    json linux_section = {
        {"namespaces", namespaces},
        {"resources", resources(request)},
        {"cgroupsPath", container_cgroups_path(request, inputs.id)},
    };
    if (!request.privileged) {
        linux_section["maskedPaths"] = {"/proc/asound",
                                        "/proc/acpi",
                                        "/proc/kcore",
                                        "/proc/keys",
                                        "/proc/latency_stats",
                                        "/proc/timer_list",
                                        "/proc/timer_stats",
                                        "/proc/sched_debug",
                                        "/proc/scsi",
                                        "/sys/firmware",
                                        "/sys/devices/virtual/powercap"};
        linux_section["readonlyPaths"] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                          "/proc/sysrq-trigger"};
        if (request.seccomp.empty())
            linux_section["seccomp"] = inputs.seccomp_profile;
        else if (request.seccomp != "unconfined")
            linux_section["seccomp"] = json::parse(request.seccomp);
    }

    json spec = {
        // 1.0.x: what crun 1.8 and runc 1.1 accept (the fields used are all in 1.0).
        {"ociVersion", "1.0.2"},
        {"process", process},
        {"root", {{"path", "rootfs"}, {"readonly", request.read_only}}},
        {"hostname", inputs.hostname},
        {"mounts", mounts},
        {"linux", linux_section},
    };
    apply_container_options(spec, request, inputs);
    return spec;
}

std::int64_t parse_memory_size(const std::string& text) {
    std::size_t digits = 0;
    while (digits < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.'))
        ++digits;
    if (digits == 0) fail("invalid size: \"" + text + "\"");
    double value = std::stod(text.substr(0, digits));
    std::string unit = text.substr(digits);
    std::transform(unit.begin(), unit.end(), unit.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (!unit.empty() && unit.back() == 'b' && unit.size() > 1) unit.pop_back();
    double scale = unit.empty() || unit == "b" ? 1
                   : unit == "k"               ? 1024.0
                   : unit == "m"               ? 1024.0 * 1024
                   : unit == "g"               ? 1024.0 * 1024 * 1024
                   : unit == "t"               ? 1024.0 * 1024 * 1024 * 1024
                                               : -1;
    if (scale < 0) fail("invalid size: \"" + text + "\" (use b, k, m, g or t)");
    return static_cast<std::int64_t>(value * scale);
}

} // namespace berth::engine
