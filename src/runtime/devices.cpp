#include "devices.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"
#include "mounts.h"
#include "path_in_root.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace berth::runtime {

namespace {

const oci::Device default_devices[] = {
    {"c", "/dev/null", 1, 3, 0666, 0, 0},    {"c", "/dev/zero", 1, 5, 0666, 0, 0},
    {"c", "/dev/full", 1, 7, 0666, 0, 0},    {"c", "/dev/random", 1, 8, 0666, 0, 0},
    {"c", "/dev/urandom", 1, 9, 0666, 0, 0}, {"c", "/dev/tty", 5, 0, 0666, 0, 0},
};

struct DevLink {
    const char* target;
    const char* name;
};

const DevLink dev_links[] = {
    {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
    {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
};

mode_t node_type(const std::string& type) {
    if (type == "b") return S_IFBLK;
    if (type == "p") return S_IFIFO;
    return S_IFCHR;
}

void bind_host_device(int root_fd, const oci::Device& device) {
    std::string what = "binding device " + device.path;
    UniqueFd target = make_target_in_root(root_fd, device.path, TargetKind::file);
    int tree = ::open_tree(AT_FDCWD, device.path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0) throw_errno(what + " from the host");
    UniqueFd tree_fd(tree);
    attach_mount(tree, target.get(), what);
}

void make_device(int root_fd, const oci::Device& device, bool in_user_namespace) {
    if (in_user_namespace) return bind_host_device(root_fd, device);
    std::string name;
    UniqueFd parent = open_parent_in_root(root_fd, device.path, name);
    mode_t mode = node_type(device.type) | (device.file_mode.value_or(0666) & 07777);
    dev_t number =
        makedev(static_cast<unsigned>(device.major), static_cast<unsigned>(device.minor));
    if (::mknodat(parent.get(), name.c_str(), mode, number) < 0) {
        if (errno == EEXIST) {
            // Replace whatever the image had there; a device path is ours to define.
            if (::unlinkat(parent.get(), name.c_str(), 0) < 0 ||
                ::mknodat(parent.get(), name.c_str(), mode, number) < 0)
                throw_errno("creating device " + device.path);
        } else if (errno == EPERM) {
            return bind_host_device(root_fd, device);
        } else {
            throw_errno("creating device " + device.path);
        }
    }
    if (::fchownat(parent.get(), name.c_str(), device.uid.value_or(0), device.gid.value_or(0),
                   AT_SYMLINK_NOFOLLOW) < 0)
        throw_errno("changing the owner of device " + device.path);
}

} // namespace

bool dev_is_bound_from_host(const oci::Spec& spec) {
    for (const auto& mount : spec.mounts) {
        if (clean_path(mount.destination) != "/dev") continue;
        bool bind = mount.type == "bind";
        for (const auto& option : mount.options)
            bind |= option == "bind" || option == "rbind";
        return bind;
    }
    return false;
}

void create_devices(int root_fd, const oci::Spec& spec, bool in_user_namespace) {
    if (dev_is_bound_from_host(spec)) return;
    mode_t old_umask = ::umask(0);
    for (const auto& device : default_devices) {
        bool overridden = false;
        for (const auto& listed : spec.linux.devices)
            overridden |= listed.path == device.path;
        if (!overridden) make_device(root_fd, device, in_user_namespace);
    }
    for (const auto& device : spec.linux.devices)
        make_device(root_fd, device, in_user_namespace);
    ::umask(old_umask);

    UniqueFd dev_dir = open_in_root(root_fd, "/dev", O_RDONLY | O_DIRECTORY);
    for (const auto& link : dev_links) {
        if (::symlinkat(link.target, dev_dir.get(), link.name) < 0 && errno != EEXIST)
            throw_errno(std::string("creating symlink /dev/") + link.name);
    }
    if (::access("/proc/kcore", F_OK) == 0 &&
        ::symlinkat("/proc/kcore", dev_dir.get(), "core") < 0 && errno != EEXIST)
        throw_errno("creating symlink /dev/core");
}

} // namespace berth::runtime
