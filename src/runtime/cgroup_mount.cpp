#include "cgroup_mount.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/text.h"
#include "mounts.h"
#include "path_in_root.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <map>
#include <optional>
#include <sys/mount.h>
#include <sys/statfs.h>

namespace berth::runtime {

namespace {

UniqueFd fresh_mount(const char* type, const char* data_key, const char* data_value,
                     std::uint64_t attrs, const std::string& what) {
    int context = ::fsopen(type, FSOPEN_CLOEXEC);
    if (context < 0) throw_errno(what);
    UniqueFd context_fd(context);
    if (data_key && ::fsconfig(context, FSCONFIG_SET_STRING, data_key, data_value, 0) < 0)
        throw_errno(what);
    if (::fsconfig(context, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) throw_errno(what);
    int tree = ::fsmount(context, FSMOUNT_CLOEXEC, static_cast<unsigned>(attrs));
    if (tree < 0) throw_errno(what);
    return UniqueFd(tree);
}

struct Hierarchy {
    std::string fstype;        // "cgroup" or "cgroup2"
    std::string controllers;   // "cpu,cpuacct", "name=systemd"; empty for cgroup2
    std::string own_directory; // the host's directory of the cgroup holding us
};

// The usual layout, without reading mountinfo (with a thousand containers'
// overlays mounted it is ~500 KB that takes the kernel ~10 ms to write, per
// container started): each hierarchy of /proc/self/cgroup mounted whole at
// /sys/fs/cgroup/<its controllers> ("name=systemd" at systemd, the cgroup2
// one at unified). nullopt where the host differs from it.
std::optional<std::map<std::string, Hierarchy>> v1_hierarchies_by_name() {
    std::map<std::string, Hierarchy> result;
    for (const std::string& line : split_lines(read_file("/proc/self/cgroup"))) {
        auto first = line.find(':'), second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) return std::nullopt;
        std::string key = line.substr(first + 1, second - first - 1);
        std::string own_path = line.substr(second + 1);
        std::string name = key.empty()                  ? "unified"
                           : key.rfind("name=", 0) == 0 ? key.substr(5)
                                                        : key;
        std::string mount_point = "/sys/fs/cgroup/" + name;
        struct statfs fs;
        if (::statfs(mount_point.c_str(), &fs) < 0 ||
            fs.f_type != (key.empty() ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC))
            return std::nullopt;
        // A mount of part of a hierarchy (mountinfo's root field) would not
        // hold our own path.
        std::string own_directory = mount_point + (own_path == "/" ? "" : own_path);
        if (!path_exists(own_directory)) return std::nullopt;
        result[mount_point] = {key.empty() ? "cgroup2" : "cgroup", key, own_directory};
    }
    return result;
}

// Mount point under /sys/fs/cgroup → what is mounted there.
std::map<std::string, Hierarchy> v1_hierarchies() {
    if (auto by_name = v1_hierarchies_by_name()) return *by_name;
    std::map<std::string, std::string> own_paths; // "cpu,cpuacct" or "name=systemd" → path
    for (const std::string& line : split_lines(read_file("/proc/self/cgroup"))) {
        auto first = line.find(':'), second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) continue;
        own_paths[line.substr(first + 1, second - first - 1)] = line.substr(second + 1);
    }
    std::map<std::string, Hierarchy> result;
    for (const std::string& line : split_lines(read_file("/proc/self/mountinfo"))) {
        // id parent dev root mount-point options [optional...] - fstype source super-options
        std::vector<std::string> fields = split_words(line);
        std::size_t dash = 6;
        while (dash < fields.size() && fields[dash] != "-")
            ++dash;
        if (dash + 3 >= fields.size()) continue;
        const std::string& root = fields[3];
        const std::string& mount_point = fields[4];
        const std::string& fstype = fields[dash + 1];
        const std::string& super_options = fields[dash + 3];
        if (mount_point.rfind("/sys/fs/cgroup/", 0) != 0) continue;
        std::string key;
        if (fstype == "cgroup2") {
            key = "";
        } else if (fstype == "cgroup") {
            // The controllers named in the super options form the key of /proc/self/cgroup.
            for (const std::string& opt : split(super_options, ',')) {
                if (opt == "rw" || opt == "ro" || opt.rfind("release_agent", 0) == 0 ||
                    opt == "clone_children" || opt == "noprefix" || opt == "xattr")
                    continue;
                key += (key.empty() ? "" : ",") + opt;
            }
        } else {
            continue;
        }
        auto own = own_paths.find(key);
        std::string own_path = own == own_paths.end() ? "/" : own->second;
        // Inside the mount, the part this process sits in, relative to the mount's root.
        if (root != "/" && own_path.rfind(root, 0) == 0) own_path = own_path.substr(root.size());
        result[mount_point] = {fstype, key, mount_point + own_path};
    }
    return result;
}

UniqueFd open_hierarchy(const Hierarchy& hierarchy, bool new_cgroup_namespace,
                        const std::string& what) {
    if (!new_cgroup_namespace) {
        int tree = ::open_tree(AT_FDCWD, hierarchy.own_directory.c_str(),
                               OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (tree < 0) throw_errno(what + ": binding " + hierarchy.own_directory);
        return UniqueFd(tree);
    }
    int context = ::fsopen(hierarchy.fstype.c_str(), FSOPEN_CLOEXEC);
    if (context < 0) throw_errno(what);
    UniqueFd context_fd(context);
    for (const std::string& controller : split(hierarchy.controllers, ',')) {
        auto equals = controller.find('=');
        int rc =
            equals == std::string::npos
                ? ::fsconfig(context, FSCONFIG_SET_FLAG, controller.c_str(), nullptr, 0)
                : ::fsconfig(context, FSCONFIG_SET_STRING, controller.substr(0, equals).c_str(),
                             controller.substr(equals + 1).c_str(), 0);
        if (rc < 0) throw_errno(what + ": hierarchy " + hierarchy.controllers);
    }
    if (::fsconfig(context, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
        throw_errno(what + ": hierarchy " + hierarchy.controllers);
    int tree = ::fsmount(context, FSMOUNT_CLOEXEC, 0);
    if (tree < 0) throw_errno(what + ": hierarchy " + hierarchy.controllers);
    return UniqueFd(tree);
}

} // namespace

void mount_cgroup_tree(int root_fd, const oci::Mount& mount, const MountOptions& options,
                       bool new_cgroup_namespace,
                       const std::map<std::string, std::string>& container_directories,
                       const std::string& what) {
    UniqueFd target = make_target_in_root(root_fd, mount.destination, TargetKind::directory);
    struct statfs host;
    if (::statfs("/sys/fs/cgroup", &host) == 0 && host.f_type == CGROUP2_SUPER_MAGIC) {
        UniqueFd tree = fresh_mount("cgroup2", nullptr, nullptr, options.attr_set, what);
        attach_mount(tree.get(), target.get(), what);
        return;
    }
    UniqueFd tmpfs =
        fresh_mount("tmpfs", "mode", "755", options.attr_set & ~MOUNT_ATTR_RDONLY, what);
    attach_mount(tmpfs.get(), target.get(), what);
    for (auto [mount_point, hierarchy] : v1_hierarchies()) {
        if (auto known = container_directories.find(mount_point);
            known != container_directories.end())
            hierarchy.own_directory = known->second;
        std::string name = mount_point.substr(std::string("/sys/fs/cgroup/").size());
        std::string destination = mount.destination + "/" + name;
        std::string step = what + ": " + name;
        UniqueFd sub_target = make_target_in_root(root_fd, destination, TargetKind::directory);
        UniqueFd tree_fd = open_hierarchy(hierarchy, new_cgroup_namespace, what);
        int tree = tree_fd.get();
        mount_attr attr{};
        // A container never gets write access to the host's hierarchies here:
        // a writable release_agent is a way out (CVE-2022-0492).
        attr.attr_set = options.attr_set | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                        MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
        attr.attr_set &= ~MOUNT_ATTR__ATIME;
        if (::mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) throw_errno(step);
        attach_mount(tree, sub_target.get(), step);
    }
    if (options.attr_set & MOUNT_ATTR_RDONLY) {
        UniqueFd mounted = open_in_root(root_fd, mount.destination, O_PATH);
        mount_attr attr{};
        attr.attr_set = MOUNT_ATTR_RDONLY;
        if (::mount_setattr(mounted.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
            throw_errno(what + ": making it read-only");
    }
}

} // namespace berth::runtime
