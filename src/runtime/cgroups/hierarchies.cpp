#include "hierarchies.h"
#include "berth/base/text.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cstdlib>
#include <dirent.h>
#include <mutex>
#include <sys/stat.h>
#include <tuple>

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

std::map<std::string, std::string> find_v1_hierarchies(const std::string& cgroup_root) {
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

} // namespace

// A host mounts its hierarchies once, at boot: the answer is kept for the
// process, for the root directory it was found under (a root mounted anew
// is another directory). Finding them (a realpath of each) took ~0.3 ms, and
// one container's start asks twice: the monitor's early cgroup, then the
// runtime's create.
std::map<std::string, std::string> v1_hierarchies(const std::string& cgroup_root) {
    struct stat root {};
    if (::stat(cgroup_root.c_str(), &root) < 0) return find_v1_hierarchies(cgroup_root);
    using Key = std::tuple<std::string, dev_t, ino_t>;
    static std::mutex lock;
    static std::map<Key, std::map<std::string, std::string>> known;
    Key key{cgroup_root, root.st_dev, root.st_ino};
    std::lock_guard<std::mutex> held(lock);
    auto found = known.find(key);
    if (found == known.end()) found = known.emplace(key, find_v1_hierarchies(cgroup_root)).first;
    return found->second;
}

} // namespace berth::runtime::cgroups
