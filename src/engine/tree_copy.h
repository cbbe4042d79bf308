// Copying a directory tree between two directory fds, never following a
// symlink: every step is an openat with O_NOFOLLOW from the fd of the level
// above, so a symlink in the source (a container's root) is copied as a
// symlink, never read through. Used to fill a new volume from the image.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

namespace berth::engine {

struct CopyOptions {
    // Existing entries: directories are merged, anything else is replaced
    // (a symlink in the way is removed, never followed). Else an error.
    bool merge = false;
    // The source's owners; else `uid`:`gid` (-1: the copier's own).
    bool keep_owner = true;
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
};

// Copies what is inside `source_dir` into `target_dir` (both O_DIRECTORY fds,
// not O_PATH): directories, regular files, symlinks, fifos and device nodes,
// with their modes, owners (see CopyOptions) and times.
void copy_tree_contents(int source_dir, int target_dir, const CopyOptions& options = {});

// One entry `name` of `source_dir` (any type; a symlink is copied as one) to
// `target_name` in `target_dir`, directories with all they hold.
void copy_entry(int source_dir, const char* name, int target_dir, const char* target_name,
                const CopyOptions& options = {});

// The owner and mode of `source_dir` onto `target_dir`.
void copy_directory_attributes(int source_dir, int target_dir);

} // namespace berth::engine
