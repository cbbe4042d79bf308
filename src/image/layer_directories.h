// The directories of a layer while it is applied: open fds along the path of
// the current entry, and the mode and times each directory gets once its
// children are written.
//
// Tar entries come depth first, a directory before its children, so the
// parent of almost every entry is the directory of the entry before it, or
// one of that directory's ancestors. Keeping the fds of that path open
// turns a lookup from the snapshot's root per entry into nothing at all, and
// a directory left behind for good is finished at once, with the fd already
// in hand, instead of being opened again at the end.
#pragma once

#include "berth/base/unique_fd.h"
#include "berth/image/tar_reader.h"

#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace berth::image {

// openat2 of `path` beneath `dir_fd` refusing every symlink, magic link,
// mount crossing and ".." that would leave it: how a layer's own paths are
// resolved. Returns -1 with errno set.
int open_beneath(int dir_fd, const std::string& path, int flags, mode_t mode = 0);

inline timespec to_timespec(const TarTime& time) {
    return timespec{static_cast<time_t>(time.seconds), static_cast<long>(time.nanoseconds)};
}

class LayerDirectories {
  public:
    // `root_fd` (not owned) is the snapshot's directory.
    explicit LayerDirectories(int root_fd) : root_fd_(root_fd) {}

    // An fd of the directory at `path` ("" is the root; a clean relative path
    // without "." or ".."). Missing directories on the way are made with mode
    // 0755, as Docker does for files whose parents the layer does not list;
    // a symlink on the way is an Error. The fd stays valid until the next
    // call to open() or finish().
    int open(const std::string& path);

    // The directory `path` gets `mode` and these times once nothing more is
    // written into it (a read-only directory must stay writable until then,
    // and each new child would change its mtime). A later call for the same
    // path replaces the earlier one, as a later tar entry would.
    void finish_later(const std::string& path, std::uint32_t mode, TarTime atime, TarTime mtime);

    // The directory `path` and everything below it were removed: nothing is
    // left to finish there.
    void removed(const std::string& path);

    // Gives every directory still waiting its mode and times.
    void finish();

  private:
    struct OpenDirectory {
        std::string path;
        UniqueFd fd;
    };
    struct PendingMetadata {
        std::uint32_t mode;
        TarTime atime, mtime;
        bool applied = false;
    };

    int descend(int parent_fd, const std::string& path, std::string_view name);
    void close_deepest();
    void apply(int fd, const std::string& path, PendingMetadata& metadata);

    int root_fd_;
    std::vector<OpenDirectory> open_;
    // Ordered, so that removed() can drop a whole subtree by range.
    std::map<std::string, PendingMetadata, std::less<>> pending_;
};

} // namespace berth::image
