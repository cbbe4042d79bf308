#include "berth/image/layer_apply.h"

#include "layer_directories.h"

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <string_view>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <vector>

namespace berth::image {

namespace {

constexpr std::size_t copy_buffer_size = 1 << 20;

// The archive's name made relative and free of "." and "..": "/a/./b/../c/"
// becomes "a/c". A ".." that climbs above the layer's root is refused rather
// than clamped, since no honest layer has one.
std::string clean_path(std::string_view raw) {
    std::vector<std::string_view> parts;
    while (!raw.empty()) {
        auto slash = raw.find('/');
        std::string_view part = raw.substr(0, slash);
        raw = slash == std::string_view::npos ? std::string_view() : raw.substr(slash + 1);
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (parts.empty()) fail("path escapes the layer with \"..\"");
            parts.pop_back();
            continue;
        }
        parts.push_back(part);
    }
    std::string out;
    for (auto part : parts) {
        if (!out.empty()) out += '/';
        out += part;
    }
    return out;
}

std::pair<std::string, std::string> split_parent(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return {"", path};
    return {path.substr(0, slash), path.substr(slash + 1)};
}

// Whatever is at `name` in `dir_fd`, gone; a directory with all it holds.
// Returns true if that was a directory.
bool remove_existing(int dir_fd, const std::string& name) {
    if (::unlinkat(dir_fd, name.c_str(), 0) == 0) return false;
    if (errno == ENOENT) return false;
    if (errno != EISDIR) throw_errno("replacing \"" + name + "\"");
    // Replacing a directory by something else (rare): remove the subtree.
    int child = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child < 0) throw_errno("opening \"" + name + "\" to replace it");
    UniqueFd child_fd(child);
    std::vector<std::string> names;
    {
        int dup_fd = ::dup(child);
        if (dup_fd < 0) throw_errno("listing \"" + name + "\"");
        DIR* dir = ::fdopendir(dup_fd);
        if (!dir) {
            ::close(dup_fd);
            throw_errno("listing \"" + name + "\"");
        }
        while (dirent* item = ::readdir(dir)) {
            std::string n = item->d_name;
            if (n != "." && n != "..") names.push_back(n);
        }
        ::closedir(dir);
    }
    for (const auto& n : names)
        remove_existing(child, n);
    if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) < 0)
        throw_errno("removing directory \"" + name + "\"");
    return true;
}

class LayerWriter {
  public:
    LayerWriter(int root_fd, const ApplyOptions& options)
        : root_fd_(root_fd), options_(options), directories_(root_fd), buffer_(copy_buffer_size) {}

    void apply(TarReader& archive, const TarEntry& entry);
    void finish() { directories_.finish(); }
    const ApplyStats& stats() const { return stats_; }

  private:
    // Runs `create` (an *at() call that fails with EEXIST when the name is
    // taken). The snapshot is fresh, so the name is almost always free and
    // is not looked at first; when it is taken (a layer may repeat a path),
    // the old entry is removed and `create` runs once more.
    template <class Create>
    int create_replacing(int dir_fd, const std::string& name, const std::string& path,
                         Create create);
    void replace(int dir_fd, const std::string& name, const std::string& path);
    void apply_whiteout(int dir_fd, const std::string& parent, const std::string& name);
    void write_directory(int parent_fd, const std::string& path, const std::string& name,
                         const TarEntry& entry);
    void write_regular(TarReader& archive, int dir_fd, const std::string& name,
                       const std::string& path, const TarEntry& entry);
    void write_hard_link(int dir_fd, const std::string& name, const std::string& path,
                         const TarEntry& entry);
    void set_xattrs(int fd, const std::string& path_for_l, const TarEntry& entry);
    void set_owner_mode_times(int dir_fd, const std::string& name, const TarEntry& entry);

    int root_fd_;
    ApplyOptions options_;
    LayerDirectories directories_;
    std::vector<char> buffer_;
    ApplyStats stats_;
};

template <class Create>
int LayerWriter::create_replacing(int dir_fd, const std::string& name, const std::string& path,
                                  Create create) {
    int rc = create();
    if (rc >= 0 || errno != EEXIST) return rc;
    replace(dir_fd, name, path);
    return create();
}

void LayerWriter::replace(int dir_fd, const std::string& name, const std::string& path) {
    if (remove_existing(dir_fd, name)) directories_.removed(path);
}

void LayerWriter::set_xattrs(int fd, const std::string& l_path, const TarEntry& entry) {
    for (const auto& [key, value] : entry.xattrs) {
        // A layer must not steer overlayfs (redirects, metacopy, opacity):
        // only berth writes trusted.overlay.* from whiteouts it understood.
        if (key.rfind("trusted.overlay.", 0) == 0) continue;
        int rc = fd >= 0 ? ::fsetxattr(fd, key.c_str(), value.data(), value.size(), 0)
                         : ::lsetxattr(l_path.c_str(), key.c_str(), value.data(), value.size(), 0);
        if (rc == 0) continue;
        // Filesystems without xattrs, and unprivileged unpacks of trusted.*
        // or security.*, lose the attribute as Docker does.
        if (errno == ENOTSUP || (errno == EPERM && !options_.preserve_ownership)) continue;
        throw_errno("setting xattr " + key);
    }
}

void LayerWriter::set_owner_mode_times(int dir_fd, const std::string& name, const TarEntry& entry) {
    if (options_.preserve_ownership &&
        ::fchownat(dir_fd, name.c_str(), entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) < 0)
        throw_errno("changing owner");
    if (entry.type != TarEntryType::symlink) {
        // After chown, which clears setuid and setgid bits.
        if (::fchmodat(dir_fd, name.c_str(), entry.mode, 0) < 0) throw_errno("changing mode");
        if (!entry.xattrs.empty())
            set_xattrs(-1, "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name, entry);
    }
    timespec times[2] = {to_timespec(entry.atime), to_timespec(entry.mtime)};
    if (::utimensat(dir_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0)
        throw_errno("setting times");
}

void LayerWriter::write_regular(TarReader& archive, int dir_fd, const std::string& name,
                                const std::string& path, const TarEntry& entry) {
    if (options_.max_bytes && stats_.bytes + entry.size > options_.max_bytes)
        fail("the layer unpacks to more than the limit of " + std::to_string(options_.max_bytes) +
             " bytes");
    int fd = create_replacing(dir_fd, name, path, [&] {
        return ::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0600);
    });
    if (fd < 0) throw_errno("creating file");
    UniqueFd file(fd);
    if (entry.size >= (1u << 20) && entry.size < (1ull << 40)) {
        // Reserve the space up front; a full disk then fails here, cleanly.
        int rc = ::fallocate(fd, 0, 0, static_cast<off_t>(entry.size));
        if (rc < 0 && errno == ENOSPC) throw_errno("writing file data");
    }
    while (std::size_t n = archive.read_data(buffer_.data(), buffer_.size())) {
        const char* data = buffer_.data();
        std::size_t left = n;
        while (left > 0) {
            ssize_t written = ::write(fd, data, left);
            if (written < 0 && errno == EINTR) continue;
            if (written < 0) throw_errno("writing file data");
            data += written;
            left -= static_cast<std::size_t>(written);
        }
        stats_.bytes += n;
    }
    // All on the open fd: no path is looked up again.
    if (options_.preserve_ownership && ::fchown(fd, entry.uid, entry.gid) < 0)
        throw_errno("changing owner");
    if (::fchmod(fd, entry.mode) < 0) throw_errno("changing mode"); // after chown clears setuid
    set_xattrs(fd, {}, entry);
    timespec times[2] = {to_timespec(entry.atime), to_timespec(entry.mtime)};
    if (::futimens(fd, times) < 0) throw_errno("setting times");
}

void LayerWriter::write_directory(int parent_fd, const std::string& path, const std::string& name,
                                  const TarEntry& entry) {
    if (::mkdirat(parent_fd, name.c_str(), 0700) < 0) {
        if (errno != EEXIST) throw_errno("creating directory");
        // A directory listed twice keeps its children; anything else goes.
        struct stat st;
        if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
            throw_errno("looking at existing \"" + name + "\"");
        if (!S_ISDIR(st.st_mode)) {
            replace(parent_fd, name, path);
            if (::mkdirat(parent_fd, name.c_str(), 0700) < 0) throw_errno("creating directory");
        }
    }
    // Opened through the chain of open directories, where its children,
    // which come next, will find it.
    int fd = directories_.open(path);
    if (options_.preserve_ownership && ::fchown(fd, entry.uid, entry.gid) < 0)
        throw_errno("changing owner");
    set_xattrs(fd, {}, entry);
    directories_.finish_later(path, entry.mode, entry.atime, entry.mtime);
}

void LayerWriter::write_hard_link(int dir_fd, const std::string& name, const std::string& path,
                                  const TarEntry& entry) {
    std::string target = clean_path(entry.link_target);
    if (target.empty()) fail("hard link to the layer's root");
    // Named, not structured bindings: lambdas capture them (clang 14 cannot).
    auto target_split = split_parent(target);
    const std::string& target_parent = target_split.first;
    const std::string& target_name = target_split.second;
    // Resolved from the root on an fd of its own, so the chain of open
    // directories (the link's parent) stays as it is.
    int target_dir = open_beneath(root_fd_, target_parent, O_RDONLY | O_DIRECTORY);
    if (target_dir < 0) throw_errno("hard link target \"" + target + "\" is not inside this layer");
    UniqueFd target_dir_fd(target_dir);
    // No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself.
    int rc = create_replacing(dir_fd, name, path, [&] {
        return ::linkat(target_dir, target_name.c_str(), dir_fd, name.c_str(), 0);
    });
    if (rc < 0) throw_errno("hard link to \"" + target + "\"");
}

void LayerWriter::apply_whiteout(int dir_fd, const std::string& parent, const std::string& name) {
    if (name == opaque_whiteout) {
        if (::fsetxattr(dir_fd, overlay_opaque_xattr, "y", 1, 0) < 0)
            throw_errno("marking the directory opaque");
        return;
    }
    std::string hidden = name.substr(std::string_view(whiteout_prefix).size());
    // ".wh..wh.*" other than opq are AUFS bookkeeping, never content.
    if (hidden.rfind(".wh.", 0) == 0) return;
    if (hidden.empty() || hidden == "." || hidden == "..")
        fail("invalid whiteout \"" + name + "\"");
    std::string hidden_path = parent.empty() ? hidden : parent + "/" + hidden;
    int rc = create_replacing(dir_fd, hidden, hidden_path, [&] {
        return ::mknodat(dir_fd, hidden.c_str(), S_IFCHR | 0, makedev(0, 0));
    });
    if (rc < 0) throw_errno("creating the whiteout for \"" + hidden + "\"");
}

void LayerWriter::apply(TarReader& archive, const TarEntry& entry) {
    ++stats_.entries;
    std::string path = clean_path(entry.path);
    if (path.empty()) {
        // "./" itself: the layer's root directory takes the entry's metadata.
        if (entry.type != TarEntryType::directory) fail("the layer's root is not a directory");
        if (options_.preserve_ownership && ::fchown(root_fd_, entry.uid, entry.gid) < 0)
            throw_errno("changing owner");
        directories_.finish_later("", entry.mode, entry.atime, entry.mtime);
        return;
    }
    auto split = split_parent(path);
    const std::string& parent = split.first;
    const std::string& name = split.second;
    int dir_fd = directories_.open(parent);

    if (name.rfind(whiteout_prefix, 0) == 0) {
        apply_whiteout(dir_fd, parent, name);
        return;
    }
    int rc = 0;
    switch (entry.type) {
    case TarEntryType::regular:
        write_regular(archive, dir_fd, name, path, entry);
        return;
    case TarEntryType::directory:
        write_directory(dir_fd, path, name, entry);
        return;
    case TarEntryType::hard_link:
        write_hard_link(dir_fd, name, path, entry);
        return; // shares the target's inode, owner, mode and times
    case TarEntryType::symlink:
        rc = create_replacing(dir_fd, name, path, [&] {
            return ::symlinkat(entry.link_target.c_str(), dir_fd, name.c_str());
        });
        if (rc < 0) throw_errno("creating symlink");
        break;
    case TarEntryType::char_device:
    case TarEntryType::block_device: {
        mode_t kind = entry.type == TarEntryType::char_device ? S_IFCHR : S_IFBLK;
        rc = create_replacing(dir_fd, name, path, [&] {
            return ::mknodat(dir_fd, name.c_str(), kind | 0600,
                             makedev(entry.device_major, entry.device_minor));
        });
        // Unprivileged, a device node cannot be made: skipped, as rootless
        // podman does (a rootless container gets /dev from the runtime).
        if (rc < 0 && errno == EPERM && !options_.preserve_ownership) return;
        if (rc < 0) throw_errno("creating device node");
        break;
    }
    case TarEntryType::fifo:
        rc = create_replacing(dir_fd, name, path,
                              [&] { return ::mkfifoat(dir_fd, name.c_str(), 0600); });
        if (rc < 0) throw_errno("creating fifo");
        break;
    }
    set_owner_mode_times(dir_fd, name, entry);
}

std::string shown_name(const std::string& path) {
    std::string shown;
    for (char c : path.substr(0, 200))
        shown += (c >= 0x20 && c < 0x7f) ? c : '?';
    return shown;
}

} // namespace

ApplyStats apply_layer(TarReader& archive, int root_fd, const ApplyOptions& options) {
    LayerWriter writer(root_fd, options);
    TarEntry entry;
    while (archive.next(entry)) {
        with_context("unpacking \"" + shown_name(entry.path) + "\"",
                     [&] { writer.apply(archive, entry); });
    }
    writer.finish();
    return writer.stats();
}

} // namespace berth::image
