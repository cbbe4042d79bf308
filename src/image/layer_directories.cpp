#include "layer_directories.h"

#include "berth/base/error.h"

#include <cerrno>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace berth::image {

namespace {

// True if `path` is `ancestor` or lies below it.
bool is_within(std::string_view path, std::string_view ancestor) {
    if (ancestor.empty()) return true;
    return path.size() >= ancestor.size() && path.compare(0, ancestor.size(), ancestor) == 0 &&
           (path.size() == ancestor.size() || path[ancestor.size()] == '/');
}

} // namespace

int open_beneath(int dir_fd, const std::string& path, int flags, mode_t mode) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    const char* name = path.empty() ? "." : path.c_str();
    long fd;
    do {
        fd = ::syscall(SYS_openat2, dir_fd, name, &how, sizeof how);
    } while (fd < 0 && errno == EAGAIN);
    return static_cast<int>(fd);
}

int LayerDirectories::open(const std::string& path) {
    // Keep the open directories that lead to `path`; finish the others,
    // which the depth-first order of tar entries has left for good.
    std::size_t keep = 0;
    while (keep < open_.size() && is_within(path, open_[keep].path))
        ++keep;
    while (open_.size() > keep)
        close_deepest();

    int fd = open_.empty() ? root_fd_ : open_.back().fd.get();
    std::size_t done = open_.empty() ? 0 : open_.back().path.size() + 1;
    while (done < path.size() + (path.empty() ? 0 : 1)) {
        std::size_t slash = path.find('/', done);
        if (slash == std::string::npos) slash = path.size();
        fd = descend(fd, path.substr(0, slash), std::string_view(path).substr(done, slash - done));
        done = slash + 1;
    }
    return fd;
}

int LayerDirectories::descend(int parent_fd, const std::string& path, std::string_view name) {
    std::string component(name);
    // One component at a time from a directory already known to be inside
    // the snapshot, refusing symlinks: nothing can lead out.
    int fd = open_beneath(parent_fd, component, O_RDONLY | O_DIRECTORY);
    if (fd < 0 && errno == ENOENT) {
        if (::mkdirat(parent_fd, component.c_str(), 0755) < 0 && errno != EEXIST)
            throw_errno("creating directory \"" + path + "\"");
        fd = open_beneath(parent_fd, component, O_RDONLY | O_DIRECTORY);
    }
    if (fd < 0) {
        if (errno == ELOOP || errno == EXDEV)
            fail("refusing to write through a symlink in \"" + path + "\"");
        throw_errno("opening directory \"" + path + "\"");
    }
    open_.push_back({path, UniqueFd(fd)});
    // Back in a directory that was already finished (entries out of order):
    // it becomes writable again and is finished anew when left.
    if (auto found = pending_.find(path); found != pending_.end() && found->second.applied) {
        found->second.applied = false;
        if (::fchmod(fd, 0700) < 0) throw_errno("reopening directory \"" + path + "\"");
    }
    return fd;
}

void LayerDirectories::close_deepest() {
    OpenDirectory& deepest = open_.back();
    if (auto found = pending_.find(deepest.path); found != pending_.end() && !found->second.applied)
        apply(deepest.fd.get(), deepest.path, found->second);
    open_.pop_back();
}

void LayerDirectories::apply(int fd, const std::string& path, PendingMetadata& metadata) {
    std::string shown = path.empty() ? "the layer's root" : "\"" + path + "\"";
    if (::fchmod(fd, metadata.mode) < 0) throw_errno("changing mode of " + shown);
    timespec times[2] = {to_timespec(metadata.atime), to_timespec(metadata.mtime)};
    if (::futimens(fd, times) < 0) throw_errno("setting times of " + shown);
    metadata.applied = true;
}

void LayerDirectories::finish_later(const std::string& path, std::uint32_t mode, TarTime atime,
                                    TarTime mtime) {
    pending_[path] = PendingMetadata{mode, atime, mtime, false};
}

void LayerDirectories::removed(const std::string& path) {
    pending_.erase(path);
    // Every path below `path` sorts between "path/" and "path0" ('0' follows '/').
    pending_.erase(pending_.lower_bound(path + "/"), pending_.lower_bound(path + "0"));
}

void LayerDirectories::finish() {
    while (!open_.empty())
        close_deepest();
    if (auto root = pending_.find(""); root != pending_.end() && !root->second.applied)
        apply(root_fd_, "", root->second);
}

} // namespace berth::image
