// COPY and ADD: files written into an overlay of the stage's layers (so that
// directories and symlinks already in the image are honoured, resolved
// inside its root), the layer being the diff of the overlay's upper.
#include "build_steps.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/engine/user_lookup.h"
#include "berth/image/layer_diff.h"
#include "berth/image/rootfs.h"

#include <cstdlib>
#include <fcntl.h>
#include <string_view>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace berth::build::detail {

namespace {

std::string base_name(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::pair<std::string, std::string> split_last(const std::string& absolute) {
    auto slash = absolute.rfind('/');
    std::string parent = slash == 0 ? "/" : absolute.substr(0, slash);
    return {parent, absolute.substr(slash + 1)};
}

bool is_directory_in_root(int root_fd, const std::string& path) {
    int fd = openat2_in_root(root_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    ::close(fd);
    return true;
}

bool is_directory_source(const CopySource& source) {
    if (source.path.empty()) return true;
    int fd =
        openat2_in_root(source.tree->root_fd(), source.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    ::close(fd);
    return true;
}

UniqueFd directory_in_root(const std::string& rootfs, int root_fd, const std::string& path) {
    engine::make_directories_in_root(rootfs, path);
    return open_in_root(root_fd, path, O_RDONLY | O_DIRECTORY);
}

} // namespace

bool mount_scratch_tmpfs(const std::string& work_dir) {
    // 256 MiB at most: tmpfs pages count against the memory cgroup of the
    // build, which may be small (a CI container), and a bigger COPY fails
    // with ENOSPC rather than being killed, then is done again on disk.
    // BERTH_BUILD_TMPFS_SIZE (digits and k/m/g, 0 for none) changes it.
    std::string size = "256m";
    if (const char* given = std::getenv("BERTH_BUILD_TMPFS_SIZE"); given && *given) {
        std::string text = given;
        std::size_t digits = text.find_first_not_of("0123456789");
        bool valid =
            digits != 0 && (digits == std::string::npos ||
                            (digits + 1 == text.size() &&
                             std::string_view("kmg").find(text.back()) != std::string_view::npos));
        if (valid) size = text;
    }
    if (size == "0") return false;
    std::string options = "size=" + size + ",mode=0700";
    return ::mount("tmpfs", work_dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0;
}

void remove_work_dir(const std::string& work_dir) {
    if (image::is_mount_point(work_dir) && ::umount2(work_dir.c_str(), MNT_DETACH) < 0)
        throw_errno("unmounting " + work_dir);
    remove_tree(work_dir);
}

void adopt_as_snapshot(image::ImageStore& store, const image::Image& base,
                       const image::StoredLayer& stored, const std::string& upper) {
    std::vector<oci::Digest> diff_ids = base.config.diff_ids;
    diff_ids.push_back(stored.layer.digest);
    store.snapshots().adopt(oci::chain_ids(diff_ids).back(), stored.layer.digest, upper,
                            stored.stats.bytes, stored.stats.entries);
}

oci::Descriptor copy_step(image::ImageStore& store, const image::Image& base,
                          const std::string& work_dir, const CopySpec& spec) {
    // The upper is read once into the layer, then renamed or dropped: no
    // sync of the filesystem at unmount (overlayfs's "volatile").
    std::string rootfs = image::mount_rootfs(store, base, work_dir, {.scratch_upper = true});
    try {
        UniqueFd root = open_fd(rootfs, O_RDONLY | O_DIRECTORY);
        CopyOwnership owner;
        if (!spec.chown.empty()) {
            auto user = engine::resolve_user_in_rootfs(spec.chown, rootfs);
            owner.uid = user.uid;
            owner.gid = user.gid;
        }
        owner.mode = spec.chmod;
        const std::string& dest = spec.destination;
        bool into_directory =
            spec.destination_is_directory || is_directory_in_root(root.get(), dest);

        for (const auto& source : spec.sources) {
            if (!source.keep_path.empty()) {
                // --parents: the source's own path, beneath the destination.
                auto [parent, name] =
                    split_last(dest + (dest == "/" ? "" : "/") + source.keep_path);
                UniqueFd dir = directory_in_root(rootfs, root.get(), parent);
                copy_from_tree(*source.tree, source.path, dir.get(), name, owner);
            } else if (source.extract) {
                UniqueFd dir = directory_in_root(rootfs, root.get(), dest);
                extract_archive(*source.tree, source.path, dir.get());
            } else if (is_directory_source(source)) {
                // A directory's contents go into the destination itself.
                if (dest == "/") {
                    copy_from_tree(*source.tree, source.path, root.get(), ".", owner);
                } else {
                    auto [parent, name] = split_last(dest);
                    UniqueFd dir = directory_in_root(rootfs, root.get(), parent);
                    copy_from_tree(*source.tree, source.path, dir.get(), name, owner);
                }
            } else if (into_directory) {
                UniqueFd dir = directory_in_root(rootfs, root.get(), dest);
                copy_from_tree(*source.tree, source.path, dir.get(), base_name(source.path), owner);
            } else {
                auto [parent, name] = split_last(dest);
                UniqueFd dir = directory_in_root(rootfs, root.get(), parent);
                copy_from_tree(*source.tree, source.path, dir.get(), name, owner);
            }
        }
        for (const auto& file : spec.inline_files) {
            std::string parent = dest, name = file.name;
            if (!into_directory) std::tie(parent, name) = split_last(dest);
            UniqueFd dir = directory_in_root(rootfs, root.get(), parent);
            ::unlinkat(dir.get(), name.c_str(), 0);
            UniqueFd out = open_at(dir.get(), name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
                                   spec.chmod.value_or(0644));
            write_all(out.get(), file.content, name);
            if (::fchown(out.get(), owner.uid, owner.gid) < 0 ||
                ::fchmod(out.get(), spec.chmod.value_or(0644)) < 0)
                throw_errno("setting the owner and mode of " + name);
        }
        root.reset(); // no open file left in the overlay: its unmount is not deferred
        image::unmount_rootfs(work_dir);
        UniqueFd upper = open_fd(work_dir + "/upper", O_RDONLY | O_DIRECTORY);
        image::LayerDiffOptions options;
        options.clamp_mtime = spec.clamp_mtime;
        auto stored = image::store_layer_from_upper(store.blobs(), upper.get(), work_dir, options);
        adopt_as_snapshot(store, base, stored, work_dir + "/upper");
        return stored.layer;
    } catch (...) {
        try {
            image::unmount_rootfs(work_dir);
        } catch (const Error&) {
        }
        throw;
    }
}

} // namespace berth::build::detail
