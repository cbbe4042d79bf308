#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/runtime/cgroups.h"

#include <linux/magic.h>
#include <sys/statfs.h>

namespace berth::runtime::cgroups {

namespace {

bool is_cgroup2(const std::string& path) {
    struct statfs fs;
    return ::statfs(path.c_str(), &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

} // namespace

Mode detect_mode(const std::string& cgroup_root) {
    struct statfs fs;
    if (::statfs(cgroup_root.c_str(), &fs) < 0)
        throw_errno("finding the cgroup filesystem at " + cgroup_root);
    if (fs.f_type == CGROUP2_SUPER_MAGIC) return Mode::v2;
    if (fs.f_type != TMPFS_MAGIC && fs.f_type != CGROUP_SUPER_MAGIC)
        fail(cgroup_root + " is neither a cgroup2 mount nor a tmpfs of cgroup v1 hierarchies");
    return is_cgroup2(cgroup_root + "/unified") ? Mode::hybrid : Mode::v1;
}

std::string_view mode_name(Mode mode) {
    switch (mode) {
    case Mode::v1:
        return "v1";
    case Mode::hybrid:
        return "hybrid";
    case Mode::v2:
        return "v2";
    }
    return "unknown";
}

Host Host::detect(const std::string& cgroup_root) {
    Host host;
    host.mode = detect_mode(cgroup_root);
    host.cgroup_root = cgroup_root;
    host.own_cgroups = read_file("/proc/self/cgroup");
    return host;
}

} // namespace berth::runtime::cgroups
