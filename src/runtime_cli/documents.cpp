#include "documents.h"

#include "berth/runtime/runtime.h"
#include "berth/runtime/seccomp.h"
#include "version.h"

#include <nlohmann/json.hpp>

namespace berth::runtime_cli {

namespace {

const char* const default_capabilities[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};

const char* const masked_paths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
    "/sys/devices/virtual/powercap",
};

const char* const readonly_paths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                      "/proc/sysrq-trigger"};

nlohmann::ordered_json mount(const char* destination, const char* type, const char* source,
                             std::initializer_list<const char*> options) {
    nlohmann::ordered_json m;
    m["destination"] = destination;
    m["type"] = type;
    m["source"] = source;
    m["options"] = std::vector<std::string>(options.begin(), options.end());
    return m;
}

} // namespace

std::string default_spec(bool rootless, unsigned uid, unsigned gid) {
    nlohmann::ordered_json spec;
    spec["ociVersion"] = spec_version;
    auto& process = spec["process"];
    process["terminal"] = true;
    process["user"] = {{"uid", 0}, {"gid", 0}};
    process["args"] = {"sh"};
    process["env"] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                      "TERM=xterm"};
    process["cwd"] = "/";
    std::vector<std::string> caps(std::begin(default_capabilities), std::end(default_capabilities));
    process["capabilities"] = {{"bounding", caps}, {"effective", caps}, {"permitted", caps}};
    process["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}};
    process["noNewPrivileges"] = true;
    spec["root"] = {{"path", "rootfs"}, {"readonly", true}};
    spec["hostname"] = "berth";
    auto& mounts = spec["mounts"];
    mounts.push_back(mount("/proc", "proc", "proc", {}));
    mounts.push_back(
        mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
    if (rootless)
        mounts.push_back(mount("/dev/pts", "devpts", "devpts",
                               {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}));
    else
        mounts.push_back(
            mount("/dev/pts", "devpts", "devpts",
                  {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
    mounts.push_back(mount("/dev/shm", "tmpfs", "shm",
                           {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
    mounts.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
    if (rootless)
        mounts.push_back(
            mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}));
    else
        mounts.push_back(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
    mounts.push_back(mount("/sys/fs/cgroup", "cgroup", "cgroup",
                           {"nosuid", "noexec", "nodev", "relatime", "ro"}));

    auto& linux = spec["linux"];
    nlohmann::ordered_json namespaces = nlohmann::ordered_json::array();
    for (const char* type : {"pid", "network", "ipc", "uts", "mount", "cgroup"})
        if (!(rootless && std::string(type) == "network")) namespaces.push_back({{"type", type}});
    if (rootless) {
        namespaces.push_back({{"type", "user"}});
        linux["uidMappings"] = {{{"containerID", 0}, {"hostID", uid}, {"size", 1}}};
        linux["gidMappings"] = {{{"containerID", 0}, {"hostID", gid}, {"size", 1}}};
    } else {
        linux["resources"] = {{"devices", {{{"allow", false}, {"access", "rwm"}}}}};
    }
    linux["namespaces"] = namespaces;
    linux["maskedPaths"] =
        std::vector<std::string>(std::begin(masked_paths), std::end(masked_paths));
    linux["readonlyPaths"] =
        std::vector<std::string>(std::begin(readonly_paths), std::end(readonly_paths));
    return spec.dump(4) + "\n";
}

std::string features_document() {
    nlohmann::ordered_json doc;
    doc["ociVersionMin"] = "1.0.0";
    doc["ociVersionMax"] = spec_version;
    doc["hooks"] = {"prestart",       "createRuntime", "createContainer",
                    "startContainer", "poststart",     "poststop"};
    doc["mountOptions"] = {"async",
                           "atime",
                           "bind",
                           "defaults",
                           "dev",
                           "diratime",
                           "exec",
                           "noatime",
                           "nodev",
                           "nodiratime",
                           "noexec",
                           "norelatime",
                           "nostrictatime",
                           "nosuid",
                           "nosymfollow",
                           "private",
                           "ratime",
                           "rbind",
                           "rdev",
                           "rdiratime",
                           "relatime",
                           "remount",
                           "rexec",
                           "rnoatime",
                           "rnodev",
                           "rnodiratime",
                           "rnoexec",
                           "rnorelatime",
                           "rnostrictatime",
                           "rnosuid",
                           "rnosymfollow",
                           "ro",
                           "rprivate",
                           "rrelatime",
                           "rro",
                           "rrw",
                           "rshared",
                           "rslave",
                           "rstrictatime",
                           "rsuid",
                           "rsymfollow",
                           "runbindable",
                           "rw",
                           "shared",
                           "slave",
                           "strictatime",
                           "suid",
                           "symfollow",
                           "unbindable"};
    auto& linux = doc["linux"];
    linux["namespaces"] = {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"};
    linux["capabilities"] = runtime::known_capability_names();
    // What later work adds is reported as absent until it exists.
    linux["cgroup"] = {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}};
    linux["seccomp"] = runtime::seccomp::features();
    linux["apparmor"] = {{"enabled", false}};
    linux["selinux"] = {{"enabled", false}};
    linux["intelRdt"] = {{"enabled", false}};
    linux["mountExtensions"] = {{"idmap", {{"enabled", false}}}};
    doc["annotations"] = {{"org.opencontainers.runtime-spec.features", spec_version},
                          {"io.github.berth.version", runtime_version},
                          {"io.github.berth.commit", git_commit}};
    return doc.dump(4) + "\n";
}

} // namespace berth::runtime_cli
