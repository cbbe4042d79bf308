#include "berth/engine/user_lookup.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/text.h"

#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>

namespace berth::engine {

namespace {

std::optional<std::uint32_t> number(std::string_view text) {
    std::uint32_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

struct PasswdEntry {
    std::string name;
    std::uint32_t uid, gid;
    std::string home;
};

std::vector<PasswdEntry> parse_passwd(std::string_view text) {
    std::vector<PasswdEntry> entries;
    for (const auto& line : split_lines(text)) {
        auto fields = split(line, ':');
        if (fields.size() < 7 || line.starts_with("#")) continue;
        auto uid = number(fields[2]), gid = number(fields[3]);
        if (!uid || !gid) continue;
        entries.push_back({fields[0], *uid, *gid, fields[5]});
    }
    return entries;
}

struct GroupEntry {
    std::string name;
    std::uint32_t gid;
    std::vector<std::string> members;
};

std::vector<GroupEntry> parse_group(std::string_view text) {
    std::vector<GroupEntry> entries;
    for (const auto& line : split_lines(text)) {
        auto fields = split(line, ':');
        if (fields.size() < 3 || line.starts_with("#")) continue;
        auto gid = number(fields[2]);
        if (!gid) continue;
        entries.push_back({fields[0], *gid,
                           fields.size() > 3 ? split(fields[3], ',') : std::vector<std::string>{}});
    }
    return entries;
}

} // namespace

ResolvedUser resolve_user(std::string_view user, std::string_view passwd, std::string_view group) {
    std::string_view user_part = user, group_part;
    bool group_given = false;
    if (auto colon = user.find(':'); colon != std::string_view::npos) {
        user_part = user.substr(0, colon);
        group_part = user.substr(colon + 1);
        group_given = true;
    }
    if (user_part.empty()) user_part = "0";
    auto users = parse_passwd(passwd);
    auto groups = parse_group(group);

    ResolvedUser resolved;
    std::string user_name;
    const PasswdEntry* entry = nullptr;
    if (auto uid = number(user_part)) {
        resolved.uid = *uid;
        for (const auto& candidate : users)
            if (candidate.uid == *uid) {
                entry = &candidate;
                break;
            }
    } else {
        for (const auto& candidate : users)
            if (candidate.name == user_part) {
                entry = &candidate;
                break;
            }
        if (!entry)
            fail("unable to find user " + std::string(user_part) +
                 ": no matching entries in passwd file");
        resolved.uid = entry->uid;
    }
    if (entry) {
        resolved.gid = entry->gid;
        resolved.home = entry->home.empty() ? "/" : entry->home;
        user_name = entry->name;
    }
    if (group_given) {
        if (auto gid = number(group_part)) {
            resolved.gid = *gid;
        } else {
            const GroupEntry* found = nullptr;
            for (const auto& candidate : groups)
                if (candidate.name == group_part) found = &candidate;
            if (!found)
                fail("unable to find group " + std::string(group_part) +
                     ": no matching entries in group file");
            resolved.gid = found->gid;
        }
    } else if (!user_name.empty()) {
        // Supplementary groups only when the group is not forced, as Docker.
        for (const auto& candidate : groups)
            for (const auto& member : candidate.members)
                if (member == user_name && candidate.gid != resolved.gid)
                    resolved.additional_gids.push_back(candidate.gid);
    }
    // The primary group is a supplementary one too, as Docker, containerd
    // and podman make it since CVE-2022-36109 / CVE-2023-25173: a process
    // must not shed its primary group's restrictions with setgroups-free tricks.
    resolved.additional_gids.insert(resolved.additional_gids.begin(), resolved.gid);
    return resolved;
}

std::string read_file_in_root(int root_fd, const std::string& path) {
    int fd = openat2_in_root(root_fd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) return {};
        throw_errno("opening " + path + " in the container's root");
    }
    UniqueFd file(fd);
    struct stat st;
    if (::fstat(fd, &st) == 0 && !S_ISREG(st.st_mode))
        fail(path + " in the container is not a file");
    return read_all(fd);
}

ResolvedUser resolve_user_in_rootfs(std::string_view user, const std::string& rootfs) {
    UniqueFd root = open_fd(rootfs, O_PATH | O_DIRECTORY);
    return resolve_user(user, read_file_in_root(root.get(), "/etc/passwd"),
                        read_file_in_root(root.get(), "/etc/group"));
}

void make_directories_in_root(const std::string& rootfs, const std::string& path) {
    UniqueFd root = open_fd(rootfs, O_PATH | O_DIRECTORY);
    std::string prefix;
    for (const auto& part : split(path, '/')) {
        if (part.empty() || part == ".") continue;
        UniqueFd parent =
            open_in_root(root.get(), prefix.empty() ? "/" : prefix, O_PATH | O_DIRECTORY);
        if (::mkdirat(parent.get(), part.c_str(), 0755) < 0 && errno != EEXIST)
            throw_errno("creating the working directory " + path + " in the container");
        prefix += "/" + part;
    }
}

} // namespace berth::engine
