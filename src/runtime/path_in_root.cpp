#include "path_in_root.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"

#include <cerrno>
#include <climits>
#include <deque>
#include <fcntl.h>
#include <sys/stat.h>
#include <vector>

namespace berth::runtime {

std::string clean_path(const std::string& path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        std::string part = path.substr(start, end - start);
        if (part == "..") {
            if (!parts.empty()) parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        start = end + 1;
    }
    std::string out;
    for (const auto& part : parts)
        out += "/" + part;
    return out.empty() ? "/" : out;
}

namespace {

void push_components(std::deque<std::string>& queue, const std::string& path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        std::string part = path.substr(start, end - start);
        if (!part.empty() && part != ".") parts.push_back(part);
        start = end + 1;
    }
    queue.insert(queue.begin(), parts.begin(), parts.end());
}

// Walks `path` one component at a time from the root, following symlinks by
// hand (an absolute one restarts at the root, ".." never leaves it), and
// creates what is missing: directories on the way, and at the end a directory
// or an empty file. Each step is an openat of one name under a directory fd
// we hold, with O_NOFOLLOW, so nothing is ever resolved against the host.
UniqueFd walk_creating(int root_fd, const std::string& path, TargetKind kind) {
    std::vector<UniqueFd> stack; // directories from the root down; empty = at the root
    auto current = [&] { return stack.empty() ? root_fd : stack.back().get(); };
    std::deque<std::string> queue;
    push_components(queue, path);
    int links = 0;
    while (!queue.empty()) {
        std::string name = queue.front();
        queue.pop_front();
        if (name == "..") {
            if (!stack.empty()) stack.pop_back();
            continue;
        }
        bool last = queue.empty();
        int fd = ::openat(current(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
            int made = (last && kind == TargetKind::file)
                           ? ::openat(current(), name.c_str(),
                                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)
                           : ::mkdirat(current(), name.c_str(), 0755);
            if (made < 0 && errno != EEXIST)
                throw_errno("creating " + path + " inside the container root");
            if (made > 0) ::close(made);
            fd = ::openat(current(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0) throw_errno("opening " + path + " inside the container root");
        UniqueFd entry(fd);
        struct stat st;
        if (::fstat(fd, &st) < 0) throw_errno("inspecting " + path + " inside the container root");
        if (S_ISLNK(st.st_mode)) {
            if (++links > 40) throw_errno("opening " + path + " inside the container root", ELOOP);
            char target[PATH_MAX];
            ssize_t n = ::readlinkat(fd, "", target, sizeof target - 1);
            if (n < 0) throw_errno("reading a symlink in " + path);
            target[n] = '\0';
            if (target[0] == '/') stack.clear();
            push_components(queue, target);
            continue;
        }
        if (last) return entry;
        if (!S_ISDIR(st.st_mode))
            throw_errno("opening " + path + " inside the container root", ENOTDIR);
        stack.push_back(std::move(entry));
    }
    // The path named the root itself (or climbed back to it).
    int fd = ::openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw_errno("opening the container root");
    return UniqueFd(fd);
}

} // namespace

UniqueFd open_parent_in_root(int root_fd, const std::string& path, std::string& name) {
    std::string clean = clean_path(path);
    auto slash = clean.find_last_of('/');
    name = clean.substr(slash + 1);
    std::string parent = slash == 0 ? "/" : clean.substr(0, slash);
    if (name.empty()) fail("the container root itself cannot be a mount or device target");
    return walk_creating(root_fd, parent, TargetKind::directory);
}

UniqueFd make_target_in_root(int root_fd, const std::string& path, TargetKind kind) {
    UniqueFd target = walk_creating(root_fd, path, kind);
    struct stat st;
    if (::fstat(target.get(), &st) < 0) throw_errno("inspecting " + path);
    if (kind == TargetKind::directory && !S_ISDIR(st.st_mode))
        throw_errno("mount target " + path + " inside the container root", ENOTDIR);
    return target;
}

} // namespace berth::runtime
