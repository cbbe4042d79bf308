// The default test config, modelled on `runc spec` output.
#include "berth_test/default_config.hpp"

namespace berth_test {

nlohmann::json default_config() {
    using nlohmann::json;
    // The minimal set runc spec grants; tests add capabilities explicitly.
    const json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
    return {
        {"ociVersion", "1.0.2"},
        {"process",
         {
             {"terminal", false},
             {"user", {{"uid", 0}, {"gid", 0}}},
             {"args", {"sh"}},
             {"env",
              {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
             {"cwd", "/"},
             {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
             {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
             {"noNewPrivileges", true},
         }},
        {"root", {{"path", "rootfs"}, {"readonly", true}}},
        {"hostname", "berth-test"},
        {"mounts",
         {
             {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
             {{"destination", "/dev"},
              {"type", "tmpfs"},
              {"source", "tmpfs"},
              {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
             {{"destination", "/dev/pts"},
              {"type", "devpts"},
              {"source", "devpts"},
              {"options",
               {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
             {{"destination", "/dev/shm"},
              {"type", "tmpfs"},
              {"source", "shm"},
              {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
             {{"destination", "/dev/mqueue"},
              {"type", "mqueue"},
              {"source", "mqueue"},
              {"options", {"nosuid", "noexec", "nodev"}}},
             {{"destination", "/sys"},
              {"type", "sysfs"},
              {"source", "sysfs"},
              {"options", {"nosuid", "noexec", "nodev", "ro"}}},
         }},
        {"linux",
         {
             {"namespaces",
              {{{"type", "pid"}},
               {{"type", "network"}},
               {{"type", "ipc"}},
               {{"type", "uts"}},
               {{"type", "mount"}}}},
             // Host information leaks and kernel knobs hidden from containers.
             {"maskedPaths",
              {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
               "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
               "/sys/firmware", "/sys/devices/virtual/powercap"}},
             {"readonlyPaths",
              {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}},
         }},
    };
}

} // namespace berth_test
