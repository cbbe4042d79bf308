#include "hierarchies.h"
#include "berth/base/text.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cstdlib>
#include <dirent.h>
#include <sys/stat.h>

namespace berth::runtime::cgroups {

namespace {

// Every v1 controller the kernel has, plus systemd's named hierarchy: the
// container joins each one the host mounts, so its /proc/self/cgroup shows
// its own cgroup everywhere and stats and freezing find it.
constexpr std::array known_hierarchies = {
    "blkio", "cpu",     "cpuacct",  "cpuset",     "devices", "freezer", "hugetlb", "memory",
    "misc",  "net_cls", "net_prio", "perf_event", "pids",    "rdma",    "systemd",
};

bool is_known(const std::string& name) {
    return std::find(known_hierarchies.begin(), known_hierarchies.end(), name) !=
           known_hierarchies.end();
}

bool is_directory(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string canonical(const std::string& path) {
    char resolved[PATH_MAX];
    return ::realpath(path.c_str(), resolved) ? std::string(resolved) : path;
}

} // namespace

std::map<std::string, std::string> v1_hierarchies(const std::string& cgroup_root) {
    std::map<std::string, std::string> found;
    for (const char* name : known_hierarchies) {
        std::string path = cgroup_root + "/" + name;
        if (is_directory(path)) found[name] = canonical(path);
    }
    // A shared mount such as "net_cls,net_prio" without a symlink per controller.
    if (DIR* dir = ::opendir(cgroup_root.c_str())) {
        while (dirent* entry = ::readdir(dir)) {
            std::string entry_name = entry->d_name;
            if (entry_name.find(',') == std::string::npos) continue;
            std::string path = cgroup_root + "/" + entry_name;
            if (!is_directory(path)) continue;
            for (const std::string& name : split(entry_name, ','))
                if (is_known(name) && !found.count(name)) found[name] = canonical(path);
        }
        ::closedir(dir);
    }
    return found;
}

} // namespace berth::runtime::cgroups
