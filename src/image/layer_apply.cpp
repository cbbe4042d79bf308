#include "berth/image/layer_apply.h"

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string_view>
#include <sys/stat.h>
#include <sys/syscall.h>
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

// openat2 that refuses every symlink, every magic link and every ".." that
// would leave `root_fd`: what a layer's own paths must resolve with.
int open_beneath(int root_fd, const std::string& path, int flags, mode_t mode = 0) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    const char* name = path.empty() ? "." : path.c_str();
    long fd;
    do {
        fd = ::syscall(SYS_openat2, root_fd, name, &how, sizeof how);
    } while (fd < 0 && errno == EAGAIN);
    return static_cast<int>(fd);
}

timespec to_timespec(const TarTime& time) {
    return timespec{static_cast<time_t>(time.seconds), static_cast<long>(time.nanoseconds)};
}

struct DeferredDirectory {
    std::string path;
    std::uint32_t mode;
    TarTime atime, mtime;
};

class LayerWriter {
  public:
    LayerWriter(int root_fd, const ApplyOptions& options)
        : root_fd_(root_fd), options_(options), buffer_(copy_buffer_size) {}

    void apply(TarReader& archive, const TarEntry& entry);
    void finish();
    const ApplyStats& stats() const { return stats_; }

  private:
    int parent_fd(const std::string& parent);
    void make_directories(const std::string& path);
    void remove_existing(int dir_fd, const std::string& name, bool keep_directory);
    void write_regular(TarReader& archive, int dir_fd, const std::string& name, const TarEntry& entry);
    void set_xattrs(int fd, const std::string& path_for_l, const TarEntry& entry);
    void set_owner_mode_times(int dir_fd, const std::string& name, const TarEntry& entry);

    int root_fd_;
    ApplyOptions options_;
    std::vector<char> buffer_;
    ApplyStats stats_;
    // Entries arrive grouped by directory, so one cached parent fd saves most lookups.
    std::string cached_parent_ = "\x01";
    UniqueFd cached_parent_fd_;
    std::vector<DeferredDirectory> directories_;
};

int LayerWriter::parent_fd(const std::string& parent) {
    if (parent == cached_parent_) return cached_parent_fd_.get();
    int fd = open_beneath(root_fd_, parent, O_RDONLY | O_DIRECTORY);
    if (fd < 0 && errno == ENOENT) {
        // Like Docker, a layer may name files in directories it does not
        // list; they are created with default permissions.
        make_directories(parent);
        fd = open_beneath(root_fd_, parent, O_RDONLY | O_DIRECTORY);
    }
    if (fd < 0) {
        if (errno == ELOOP || errno == EXDEV)
            fail("refusing to write through a symlink in \"" + parent + "\"");
        throw_errno("opening directory \"" + parent + "\"");
    }
    cached_parent_fd_.reset(fd);
    cached_parent_ = parent;
    return fd;
}

void LayerWriter::make_directories(const std::string& path) {
    std::size_t start = 0;
    while (start <= path.size()) {
        auto slash = path.find('/', start);
        std::string prefix = path.substr(0, slash);
        auto [parent, name] = split_parent(prefix);
        int dir = open_beneath(root_fd_, parent, O_RDONLY | O_DIRECTORY);
        if (dir < 0) throw_errno("opening directory \"" + parent + "\"");
        UniqueFd dir_fd(dir);
        if (::mkdirat(dir, name.c_str(), 0755) < 0 && errno != EEXIST)
            throw_errno("creating directory \"" + prefix + "\"");
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
}

void LayerWriter::remove_existing(int dir_fd, const std::string& name, bool keep_directory) {
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) return;
        throw_errno("looking at existing \"" + name + "\"");
    }
    if (S_ISDIR(st.st_mode)) {
        if (keep_directory) return;
        // Replacing a directory by a file (rare): remove the whole subtree.
        int child = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0) throw_errno("opening \"" + name + "\" to replace it");
        UniqueFd child_fd(child);
        std::vector<std::string> names;
        {
            int dup_fd = ::dup(child);
            DIR* dir = ::fdopendir(dup_fd);
            if (!dir) throw_errno("listing \"" + name + "\"");
            while (dirent* item = ::readdir(dir)) {
                std::string n = item->d_name;
                if (n != "." && n != "..") names.push_back(n);
            }
            ::closedir(dir);
        }
        for (const auto& n : names) remove_existing(child, n, false);
        if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) < 0)
            throw_errno("removing directory \"" + name + "\"");
        return;
    }
    if (::unlinkat(dir_fd, name.c_str(), 0) < 0) throw_errno("replacing \"" + name + "\"");
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
                                const TarEntry& entry) {
    int fd = ::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0600);
    if (fd < 0) throw_errno("creating file");
    UniqueFd file(fd);
    if (options_.max_bytes && stats_.bytes + entry.size > options_.max_bytes)
        fail("the layer unpacks to more than the limit of " + std::to_string(options_.max_bytes) +
             " bytes");
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
    if (options_.preserve_ownership && ::fchown(fd, entry.uid, entry.gid) < 0)
        throw_errno("changing owner");
    if (::fchmod(fd, entry.mode) < 0) throw_errno("changing mode");
    set_xattrs(fd, {}, entry);
    timespec times[2] = {to_timespec(entry.atime), to_timespec(entry.mtime)};
    if (::futimens(fd, times) < 0) throw_errno("setting times");
}

void LayerWriter::apply(TarReader& archive, const TarEntry& entry) {
    ++stats_.entries;
    std::string path = clean_path(entry.path);
    if (path.empty()) {
        // "./" itself: the layer's root directory takes the entry's metadata.
        if (entry.type != TarEntryType::directory) fail("the layer's root is not a directory");
        directories_.push_back({"", entry.mode, entry.atime, entry.mtime});
        if (options_.preserve_ownership && ::fchown(root_fd_, entry.uid, entry.gid) < 0)
            throw_errno("changing owner");
        return;
    }
    auto [parent, name] = split_parent(path);
    int dir_fd = parent_fd(parent);

    if (name == opaque_whiteout) {
        if (::fsetxattr(dir_fd, overlay_opaque_xattr, "y", 1, 0) < 0)
            throw_errno("marking the directory opaque");
        return;
    }
    if (name.rfind(whiteout_prefix, 0) == 0) {
        std::string hidden = name.substr(std::string_view(whiteout_prefix).size());
        // ".wh..wh.*" other than opq are AUFS bookkeeping, never content.
        if (hidden.rfind(".wh.", 0) == 0) return;
        if (hidden.empty() || hidden == "." || hidden == "..")
            fail("invalid whiteout \"" + name + "\"");
        remove_existing(dir_fd, hidden, false);
        if (::mknodat(dir_fd, hidden.c_str(), S_IFCHR | 0, makedev(0, 0)) < 0)
            throw_errno("creating the whiteout for \"" + hidden + "\"");
        return;
    }

    remove_existing(dir_fd, name, entry.type == TarEntryType::directory);
    switch (entry.type) {
    case TarEntryType::regular:
        write_regular(archive, dir_fd, name, entry);
        return;
    case TarEntryType::directory: {
        if (::mkdirat(dir_fd, name.c_str(), 0700) < 0 && errno != EEXIST)
            throw_errno("creating directory");
        int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) throw_errno("opening directory");
        UniqueFd dir(fd);
        if (options_.preserve_ownership && ::fchown(fd, entry.uid, entry.gid) < 0)
            throw_errno("changing owner");
        set_xattrs(fd, {}, entry);
        // Mode and times wait until every child is written: a read-only
        // directory must stay writable, and children would bump its mtime.
        directories_.push_back({path, entry.mode, entry.atime, entry.mtime});
        return;
    }
    case TarEntryType::symlink:
        if (::symlinkat(entry.link_target.c_str(), dir_fd, name.c_str()) < 0)
            throw_errno("creating symlink");
        break;
    case TarEntryType::hard_link: {
        std::string target = clean_path(entry.link_target);
        if (target.empty()) fail("hard link to the layer's root");
        auto [target_parent, target_name] = split_parent(target);
        int target_dir = open_beneath(root_fd_, target_parent, O_RDONLY | O_DIRECTORY);
        if (target_dir < 0)
            throw_errno("hard link target \"" + target + "\" is not inside this layer");
        UniqueFd target_dir_fd(target_dir);
        // No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself.
        if (::linkat(target_dir, target_name.c_str(), dir_fd, name.c_str(), 0) < 0)
            throw_errno("hard link to \"" + target + "\"");
        return; // shares the target's inode, owner, mode and times
    }
    case TarEntryType::char_device:
    case TarEntryType::block_device: {
        mode_t kind = entry.type == TarEntryType::char_device ? S_IFCHR : S_IFBLK;
        if (::mknodat(dir_fd, name.c_str(), kind | 0600,
                      makedev(entry.device_major, entry.device_minor)) < 0)
            throw_errno("creating device node");
        break;
    }
    case TarEntryType::fifo:
        if (::mkfifoat(dir_fd, name.c_str(), 0600) < 0) throw_errno("creating fifo");
        break;
    }
    set_owner_mode_times(dir_fd, name, entry);
}

void LayerWriter::finish() {
    cached_parent_fd_.reset();
    // Deepest first, so setting a parent's times comes after its children.
    std::stable_sort(directories_.begin(), directories_.end(), [](auto& a, auto& b) {
        return std::count(a.path.begin(), a.path.end(), '/') + !a.path.empty() >
               std::count(b.path.begin(), b.path.end(), '/') + !b.path.empty();
    });
    for (const auto& dir : directories_) {
        int fd = open_beneath(root_fd_, dir.path, O_RDONLY | O_DIRECTORY);
        if (fd < 0) {
            // A later entry of the layer replaced or whited out the directory.
            if (errno == ENOENT || errno == ENOTDIR) continue;
            throw_errno("opening directory \"" + dir.path + "\"");
        }
        UniqueFd dir_fd(fd);
        if (::fchmod(fd, dir.mode) < 0) throw_errno("changing mode of \"" + dir.path + "\"");
        timespec times[2] = {to_timespec(dir.atime), to_timespec(dir.mtime)};
        if (::futimens(fd, times) < 0) throw_errno("setting times of \"" + dir.path + "\"");
    }
}

std::string shown_name(const std::string& path) {
    std::string shown;
    for (char c : path.substr(0, 200)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
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
