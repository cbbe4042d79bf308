// Whole-file reads and writes, and directories, with errors that name the path.
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>

namespace berth {

std::string read_file(const std::string& path);
// Reads what is left of an fd, up to end of file.
std::string read_all(int fd);
// Writes all of `data` to an fd, retrying short writes and EINTR.
void write_all(int fd, std::string_view data, const std::string& what);

// Replaces `path` whole: writes a temporary file beside it, fsyncs when
// `durable`, and renames it into place, so readers see the old or new file.
void write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644,
                       bool durable = false);
// Writes to an existing file such as a /proc or /sys knob.
void write_existing_file(const std::string& path, std::string_view data);

// mkdir -p; existing directories are fine.
void make_directories(const std::string& path, mode_t mode = 0755);
// rm -rf without following symlinks, staying on one tree of fds.
void remove_tree(const std::string& path);

bool path_exists(const std::string& path);

// `path` made absolute against the current directory, without resolving
// symlinks or requiring it to exist.
std::string absolute_path_of(const std::string& path);

} // namespace berth
