#include "berth/image/rootfs.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::image {

namespace {

// The messages overlayfs left in the filesystem context ("overlayfs: ..."),
// which say far more than errno does.
std::string context_messages(int context) {
    std::string messages;
    char buffer[1024];
    for (;;) {
        ssize_t n = ::read(context, buffer, sizeof buffer - 1);
        if (n <= 0) break;
        if (!messages.empty()) messages += "; ";
        messages.append(buffer + 2 * (n > 2), static_cast<std::size_t>(n) - 2 * (n > 2));
    }
    return messages;
}

[[noreturn]] void mount_failed(int context, const std::string& what) {
    int err = errno;
    std::string detail = context_messages(context);
    if (!detail.empty()) fail(what + ": " + detail + " (" + std::strerror(err) + ")");
    throw_errno(what, err);
}

struct OverlayPlan {
    std::vector<std::string> lower_top_first;
    std::string upper, work;
    bool read_only = false;
    bool scratch_upper = false;
};

// The new mount API: one fsconfig call per layer.
bool mount_with_lowerdir_plus(const OverlayPlan& plan, const std::string& target) {
    int context = ::fsopen("overlay", FSOPEN_CLOEXEC);
    if (context < 0) throw_errno("mounting overlay on " + target + " (fsopen)");
    UniqueFd context_fd(context);
    for (const auto& lower : plan.lower_top_first) {
        if (::fsconfig(context, FSCONFIG_SET_STRING, "lowerdir+", lower.c_str(), 0) < 0) {
            if (errno == EINVAL && &lower == &plan.lower_top_first.front()) {
                context_messages(context);
                return false; // a kernel before 6.8
            }
            mount_failed(context, "adding layer " + lower + " to the overlay");
        }
    }
    if (!plan.upper.empty()) {
        if (::fsconfig(context, FSCONFIG_SET_STRING, "upperdir", plan.upper.c_str(), 0) < 0 ||
            ::fsconfig(context, FSCONFIG_SET_STRING, "workdir", plan.work.c_str(), 0) < 0)
            mount_failed(context, "mounting overlay on " + target);
        // A kernel without "volatile" (before 5.10) just syncs as usual.
        if (plan.scratch_upper &&
            ::fsconfig(context, FSCONFIG_SET_FLAG, "volatile", nullptr, 0) < 0)
            context_messages(context);
    }
    if (::fsconfig(context, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
        mount_failed(context, "mounting overlay on " + target);
    int tree = ::fsmount(context, FSMOUNT_CLOEXEC, plan.read_only ? MOUNT_ATTR_RDONLY : 0);
    if (tree < 0) mount_failed(context, "mounting overlay on " + target);
    UniqueFd tree_fd(tree);
    if (::move_mount(tree, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
        throw_errno("mounting overlay on " + target);
    return true;
}

// Older kernels: one mount(2) option string, limited to a page. Short
// symlinks (<dir>/l/N -> snapshot) keep it short, relative to a working
// directory that only a forked child changes, since threads share it.
void mount_with_short_links(const OverlayPlan& plan, const std::string& target,
                            const std::string& links_dir) {
    remove_tree(links_dir + "/l");
    make_directories(links_dir + "/l", 0700);
    std::string lowers;
    for (std::size_t i = 0; i < plan.lower_top_first.size(); ++i) {
        std::string link = "l/" + std::to_string(i);
        if (::symlink(plan.lower_top_first[i].c_str(), (links_dir + "/" + link).c_str()) < 0)
            throw_errno("linking layer " + plan.lower_top_first[i]);
        lowers += (i ? ":" : "") + link;
    }
    std::string options = "lowerdir=" + lowers;
    if (!plan.upper.empty()) options += ",upperdir=" + plan.upper + ",workdir=" + plan.work;
    if (plan.scratch_upper) options += ",volatile";
    if (options.size() >= 4096) fail("too many layers to mount on this kernel (before Linux 6.8)");
    unsigned long flags = plan.read_only ? MS_RDONLY : 0;
    pid_t child = ::fork();
    if (child < 0) throw_errno("forking to mount the overlay");
    if (child == 0) {
        if (::chdir(links_dir.c_str()) < 0) ::_exit(errno);
        ::_exit(::mount("overlay", target.c_str(), "overlay", flags, options.c_str()) < 0 ? errno
                                                                                          : 0);
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    int err = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
    if (err) throw_errno("mounting overlay on " + target, err);
}

void mount_overlay(const OverlayPlan& plan, const std::string& target,
                   const std::string& links_dir) {
    if (!mount_with_lowerdir_plus(plan, target)) mount_with_short_links(plan, target, links_dir);
}

std::vector<std::string> top_first(std::vector<std::string> bottom_first) {
    return {bottom_first.rbegin(), bottom_first.rend()};
}

void unmount(const std::string& path) {
    if (!is_mount_point(path)) return;
    if (::umount2(path.c_str(), UMOUNT_NOFOLLOW) < 0) {
        if (errno != EBUSY) throw_errno("unmounting " + path);
        // Still busy (a process inside): detach now, free when it leaves.
        if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
            throw_errno("unmounting " + path);
    }
}

} // namespace

bool is_mount_point(const std::string& path) {
    struct statx info {};
    if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &info) < 0)
        return false;
    return (info.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
           (info.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

std::string mount_rootfs(ImageStore& store, const Image& image, const std::string& container_dir,
                         RootfsOptions options) {
    return with_context("mounting the root filesystem in " + container_dir, [&] {
        OverlayPlan plan;
        plan.scratch_upper = options.scratch_upper;
        plan.lower_top_first = top_first(store.unpack(image));
        plan.upper = container_dir + "/upper";
        plan.work = container_dir + "/work";
        std::string rootfs = container_dir + "/rootfs";
        if (plan.lower_top_first.empty()) {
            // An image without layers (FROM scratch, nothing added): an empty lower.
            make_directories(container_dir + "/empty", 0755);
            plan.lower_top_first.push_back(container_dir + "/empty");
        }
        make_directories(plan.upper, 0755);
        // A volatile mount leaves work/incompat/volatile, which refuses any
        // later mount of this upper; a scratch upper may start over.
        if (plan.scratch_upper) remove_tree(plan.work);
        make_directories(plan.work, 0700);
        make_directories(rootfs, 0755);
        if (is_mount_point(rootfs)) fail(rootfs + " is already mounted");
        mount_overlay(plan, rootfs, container_dir);
        return rootfs;
    });
}

void unmount_rootfs(const std::string& container_dir) {
    unmount(container_dir + "/rootfs");
}

std::string mount_image(ImageStore& store, const Image& image) {
    std::string base = store.root() + "/image-mounts/" + image.manifest_digest.hex();
    std::string target = base + "/merged";
    if (is_mount_point(target)) return target;
    return with_context("mounting image " + image.id.short_hex(), [&] {
        OverlayPlan plan;
        plan.lower_top_first = top_first(store.unpack(image));
        plan.read_only = true;
        // Without an upper, overlayfs wants two lowers at least.
        while (plan.lower_top_first.size() < 2) {
            std::string empty = base + "/empty" + std::to_string(plan.lower_top_first.size());
            make_directories(empty, 0755);
            plan.lower_top_first.push_back(empty);
        }
        make_directories(target, 0755);
        mount_overlay(plan, target, base);
        return target;
    });
}

bool unmount_image(ImageStore& store, const Image& image) {
    std::string base = store.root() + "/image-mounts/" + image.manifest_digest.hex();
    bool mounted = is_mount_point(base + "/merged");
    unmount(base + "/merged");
    remove_tree(base);
    return mounted;
}

} // namespace berth::image
