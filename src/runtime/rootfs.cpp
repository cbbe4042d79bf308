#include "rootfs.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"
#include "devices.h"
#include "mount_options.h"
#include "mounts.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace berth::runtime {

UniqueFd prepare_rootfs(const oci::Spec& spec, const std::string& rootfs,
                        const MountContext& context) {
    // Nothing mounted from here on may propagate back to the host.
    unsigned long propagation = spec.linux.rootfs_propagation.empty()
                                    ? (MS_SLAVE | MS_REC)
                                    : parse_propagation(spec.linux.rootfs_propagation);
    if (::mount(nullptr, "/", nullptr, propagation, nullptr) < 0)
        throw_errno("setting the propagation of / to " + (spec.linux.rootfs_propagation.empty()
                                                              ? std::string("rslave")
                                                              : spec.linux.rootfs_propagation));
    // pivot_root needs the new root to be a mount point.
    if (::mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
        throw_errno("binding the root filesystem " + rootfs + " onto itself");
    UniqueFd root = open_fd(rootfs, O_PATH | O_DIRECTORY);
    for (const auto& mount : spec.mounts)
        mount_entry(root.get(), mount, context);
    create_devices(root.get(), spec, context.in_user_namespace);
    return root;
}

void switch_root(const std::string& rootfs, bool no_pivot) {
    if (no_pivot) {
        if (::chdir(rootfs.c_str()) < 0) throw_errno("entering " + rootfs);
        if (::mount(rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0)
            throw_errno("moving the root filesystem onto /");
        if (::chroot(".") < 0) throw_errno("chroot into the root filesystem");
        if (::chdir("/") < 0) throw_errno("entering /");
        return;
    }
    // pivot_root(".", ".") stacks the old root under the new one; detaching
    // "." then drops it without needing a directory for it in the image.
    UniqueFd old_root = open_fd("/", O_DIRECTORY | O_PATH);
    UniqueFd new_root = open_fd(rootfs, O_DIRECTORY | O_RDONLY);
    if (::fchdir(new_root.get()) < 0) throw_errno("entering " + rootfs);
    if (::syscall(SYS_pivot_root, ".", ".") < 0) throw_errno("pivot_root into " + rootfs);
    if (::fchdir(old_root.get()) < 0) throw_errno("entering the old root");
    if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0)
        throw_errno("making the old root a slave");
    if (::umount2(".", MNT_DETACH) < 0) throw_errno("detaching the old root");
    if (::chdir("/") < 0) throw_errno("entering /");
}

namespace {

void mask_path(const std::string& path) {
    std::string what = "masking " + path;
    int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return;
        throw_errno(what);
    }
    UniqueFd target(fd);
    struct stat st;
    if (::fstat(fd, &st) < 0) throw_errno(what);
    int tree;
    if (S_ISDIR(st.st_mode)) {
        int context = ::fsopen("tmpfs", FSOPEN_CLOEXEC);
        if (context < 0) throw_errno(what);
        UniqueFd context_fd(context);
        if (::fsconfig(context, FSCONFIG_SET_STRING, "size", "0", 0) < 0 ||
            ::fsconfig(context, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
            throw_errno(what);
        tree = ::fsmount(context, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
    } else {
        tree = ::open_tree(AT_FDCWD, "/dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    }
    if (tree < 0) throw_errno(what);
    UniqueFd tree_fd(tree);
    attach_mount(tree, fd, what);
}

void make_read_only(const std::string& path) {
    std::string what = "making " + path + " read-only";
    int tree =
        ::open_tree(AT_FDCWD, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (tree < 0) {
        if (errno == ENOENT) return;
        throw_errno(what);
    }
    UniqueFd tree_fd(tree);
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (::mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
        throw_errno(what);
    UniqueFd target = open_fd(path, O_PATH);
    attach_mount(tree, target.get(), what);
}

} // namespace

void finish_rootfs(const oci::Spec& spec) {
    for (const auto& path : spec.linux.readonly_paths)
        make_read_only(path);
    for (const auto& path : spec.linux.masked_paths)
        mask_path(path);
    if (spec.root.readonly) {
        mount_attr attr{};
        attr.attr_set = MOUNT_ATTR_RDONLY;
        if (::mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof attr) < 0)
            throw_errno("making the root filesystem read-only");
    }
}

} // namespace berth::runtime
