// `-u name[:group]` to numbers, from the container's own /etc/passwd and
// /etc/group (read inside its root, never through a symlink out of it), as
// Docker resolves users: numbers need no entry, names must have one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace berth::engine {

struct ResolvedUser {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::vector<std::uint32_t> additional_gids; // gid first, then groups that list the user by name
    std::string home = "/";
};

// From the text of passwd and group files ("" when the image has none).
ResolvedUser resolve_user(std::string_view user, std::string_view passwd, std::string_view group);

// The same, reading <rootfs>/etc/passwd and <rootfs>/etc/group inside the root.
ResolvedUser resolve_user_in_rootfs(std::string_view user, const std::string& rootfs);

// Reads a small file inside the root at `root_fd` ("" if it does not exist).
std::string read_file_in_root(int root_fd, const std::string& path);

// mkdir -p inside the root (symlinks resolved inside it), for the working directory.
void make_directories_in_root(const std::string& rootfs, const std::string& path);

} // namespace berth::engine
