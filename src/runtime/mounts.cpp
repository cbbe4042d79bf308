#include "mounts.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "cgroup_mount.h"
#include "mount_options.h"
#include "path_in_root.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

namespace berth::runtime {

namespace {

std::string describe(const oci::Mount& mount) {
    std::string type = mount.type.empty() ? "bind" : mount.type;
    std::string source = mount.source.empty() ? type : mount.source;
    return "mounting " + source + " on " + mount.destination;
}

void set_attributes(int tree_fd, std::uint64_t set, std::uint64_t clear, bool recursive,
                    const std::string& what) {
    if (set == 0 && clear == 0) return;
    mount_attr attr{};
    attr.attr_set = set;
    attr.attr_clr = clear;
    unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
    if (::mount_setattr(tree_fd, "", flags, &attr, sizeof attr) < 0)
        throw_errno(what + ": setting mount flags");
}

UniqueFd clone_bind_source(const oci::Mount& mount, const MountOptions& options,
                           const std::string& what) {
    unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
    if (options.recursive_bind) flags |= AT_RECURSIVE;
    int fd = ::open_tree(AT_FDCWD, mount.source.c_str(), flags);
    if (fd < 0) throw_errno(what);
    return UniqueFd(fd);
}

UniqueFd create_filesystem(const oci::Mount& mount, const MountOptions& options,
                           const std::string& what) {
    int context = ::fsopen(mount.type.c_str(), FSOPEN_CLOEXEC);
    if (context < 0) throw_errno(what + ": filesystem type \"" + mount.type + "\"");
    UniqueFd context_fd(context);
    if (!mount.source.empty() &&
        ::fsconfig(context, FSCONFIG_SET_STRING, "source", mount.source.c_str(), 0) < 0)
        throw_errno(what + ": setting the source");
    for (const auto& [key, value] : options.data) {
        int rc = value.empty() && key.find('=') == std::string::npos
                     ? ::fsconfig(context, FSCONFIG_SET_FLAG, key.c_str(), nullptr, 0)
                     : ::fsconfig(context, FSCONFIG_SET_STRING, key.c_str(), value.c_str(), 0);
        if (rc < 0)
            throw_errno(what + ": option \"" + key + (value.empty() ? "" : "=" + value) + "\"");
    }
    if (::fsconfig(context, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) throw_errno(what);
    int tree = ::fsmount(context, FSMOUNT_CLOEXEC, static_cast<unsigned>(options.attr_set));
    if (tree < 0) throw_errno(what);
    return UniqueFd(tree);
}

bool source_is_directory(const oci::Mount& mount) {
    struct stat st;
    if (::stat(mount.source.c_str(), &st) < 0) throw_errno(describe(mount) + ": source");
    return S_ISDIR(st.st_mode);
}

void apply_propagation(int root_fd, const oci::Mount& mount, const MountOptions& options,
                       const std::string& what) {
    if (!options.propagation) return;
    // Opened again: the fd taken before mounting points under the new mount.
    UniqueFd mounted = open_in_root(root_fd, mount.destination, O_PATH);
    mount_attr attr{};
    attr.propagation = options.propagation;
    unsigned flags = AT_EMPTY_PATH | (options.recursive_propagation ? AT_RECURSIVE : 0);
    if (::mount_setattr(mounted.get(), "", flags, &attr, sizeof attr) < 0)
        throw_errno(what + ": setting propagation");
}

} // namespace

void attach_mount(int tree_fd, int target_fd, const std::string& what) {
    if (::move_mount(tree_fd, "", target_fd, "",
                     MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        throw_errno(what);
}

void mount_entry(int root_fd, const oci::Mount& mount, const MountContext& context) {
    const std::string what = describe(mount);
    MountOptions options = with_context(what, [&] { return parse_mount_options(mount.options); });
    bool bind = options.bind || mount.type == "bind";
    if (mount.type == "cgroup" || mount.type == "cgroup2") {
        mount_cgroup_tree(root_fd, mount, options, context.new_cgroup_namespace,
                          context.cgroup_directories, what);
        return;
    }
    if (bind) {
        TargetKind kind = source_is_directory(mount) ? TargetKind::directory : TargetKind::file;
        UniqueFd target = make_target_in_root(root_fd, mount.destination, kind);
        UniqueFd tree = clone_bind_source(mount, options, what);
        set_attributes(tree.get(), options.attr_set, options.attr_clear, false, what);
        set_attributes(tree.get(), options.recursive_attr_set, options.recursive_attr_clear, true,
                       what);
        attach_mount(tree.get(), target.get(), what);
    } else {
        UniqueFd target = make_target_in_root(root_fd, mount.destination, TargetKind::directory);
        UniqueFd tree;
        try {
            tree = create_filesystem(mount, options, what);
        } catch (const Error& error) {
            // sysfs cannot be mounted from a user namespace that does not own
            // the network namespace; runc and crun bind the host's /sys then.
            if (mount.type != "sysfs" || !context.in_user_namespace || error.errno_value() != EPERM)
                throw;
            oci::Mount host_sys{mount.destination, "bind", "/sys", {"rbind"}};
            MountOptions bind_options = options;
            bind_options.bind = bind_options.recursive_bind = true;
            tree = clone_bind_source(host_sys, bind_options, what);
            set_attributes(tree.get(), options.attr_set | MOUNT_ATTR_RDONLY, options.attr_clear,
                           true, what);
        }
        set_attributes(tree.get(), options.recursive_attr_set, options.recursive_attr_clear, true,
                       what);
        attach_mount(tree.get(), target.get(), what);
    }
    apply_propagation(root_fd, mount, options, what);
}

} // namespace berth::runtime
