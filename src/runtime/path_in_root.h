// Creating and opening paths inside a container's root filesystem, by the
// kernel's own resolution (openat2 RESOLVE_IN_ROOT): no ".." or symlink in
// the image can lead a mount or a device node out of the root.
#pragma once

#include "berth/base/unique_fd.h"

#include <string>

namespace berth::runtime {

// "/a/./b/../c/" → "/a/c"; ".." never climbs above "/".
std::string clean_path(const std::string& path);

enum class TargetKind { directory, file };

// Makes sure `path` exists inside the root (creating missing directories, and
// an empty file when `kind` is file) and returns an O_PATH fd to it.
UniqueFd make_target_in_root(int root_fd, const std::string& path, TargetKind kind);

// The O_PATH fd of the directory that holds `path`'s last component, created
// if missing, and that component's name.
UniqueFd open_parent_in_root(int root_fd, const std::string& path, std::string& name);

} // namespace berth::runtime
