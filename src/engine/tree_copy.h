// Copying a directory tree between two directory fds, never following a
// symlink: every step is an openat with O_NOFOLLOW from the fd of the level
// above, so a symlink in the source (a container's root) is copied as a
// symlink, never read through. Used to fill a new volume from the image.
#pragma once

namespace berth::engine {

// Copies what is inside `source_dir` into `target_dir` (both O_DIRECTORY fds,
// not O_PATH): directories, regular files, symlinks, fifos and device nodes,
// with their modes, owners (when allowed) and times. Existing entries in the
// target are an error.
void copy_tree_contents(int source_dir, int target_dir);

// The owner and mode of `source_dir` onto `target_dir`.
void copy_directory_attributes(int source_dir, int target_dir);

} // namespace berth::engine
