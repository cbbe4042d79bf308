#include "berth/base/files.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace berth {

std::string read_all(int fd) {
    std::string data;
    char buffer[8192];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("reading");
        if (n == 0) return data;
        data.append(buffer, static_cast<size_t>(n));
    }
}

std::string read_file(const std::string& path) {
    UniqueFd fd = open_fd(path, O_RDONLY);
    return with_context("reading " + path, [&] { return read_all(fd.get()); });
}

void write_all(int fd, std::string_view data, const std::string& what) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("writing " + what);
        data.remove_prefix(static_cast<size_t>(n));
    }
}

void write_file_atomic(const std::string& path, std::string_view data, mode_t mode, bool durable) {
    std::string temporary = path + ".tmp." + std::to_string(::getpid());
    {
        UniqueFd fd = open_fd(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode);
        write_all(fd.get(), data, temporary);
        if (durable && ::fsync(fd.get()) < 0) throw_errno("syncing " + temporary);
    }
    if (::rename(temporary.c_str(), path.c_str()) < 0) {
        int err = errno;
        ::unlink(temporary.c_str());
        throw_errno("renaming " + temporary + " to " + path, err);
    }
}

void write_existing_file(const std::string& path, std::string_view data) {
    UniqueFd fd = open_fd(path, O_WRONLY);
    write_all(fd.get(), data, path);
}

void make_directories(const std::string& path, mode_t mode) {
    if (path.empty()) return;
    if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return;
    if (errno != ENOENT) throw_errno("creating directory " + path);
    auto slash = path.find_last_of('/');
    if (slash != std::string::npos && slash > 0) make_directories(path.substr(0, slash), mode);
    if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST)
        throw_errno("creating directory " + path);
}

namespace {

// Empties the directory open at `dir_fd`, never following a symlink.
void remove_children(int dir_fd, const std::string& shown_path) {
    int listing_fd = ::dup(dir_fd);
    if (listing_fd < 0) throw_errno("listing " + shown_path);
    DIR* dir = ::fdopendir(listing_fd);
    if (!dir) {
        ::close(listing_fd);
        throw_errno("listing " + shown_path);
    }
    while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        if (::unlinkat(dir_fd, name.c_str(), 0) == 0) continue;
        if (errno != EISDIR) {
            ::closedir(dir);
            throw_errno("removing " + shown_path + "/" + name);
        }
        int child = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child >= 0) {
            UniqueFd child_fd(child);
            remove_children(child, shown_path + "/" + name);
        }
        if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) {
            ::closedir(dir);
            throw_errno("removing " + shown_path + "/" + name);
        }
    }
    ::closedir(dir);
}

} // namespace

void remove_tree(const std::string& path) {
    if (::unlink(path.c_str()) == 0 || errno == ENOENT) return;
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) throw_errno("removing " + path);
    UniqueFd dir_fd(fd);
    remove_children(fd, path);
    if (::rmdir(path.c_str()) < 0 && errno != ENOENT) throw_errno("removing " + path);
}

std::string absolute_path_of(const std::string& path) {
    if (path.empty() || path[0] == '/') return path;
    char cwd[4096];
    if (!::getcwd(cwd, sizeof cwd)) throw_errno("finding the current directory");
    return std::string(cwd) + "/" + path;
}

bool path_exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

} // namespace berth
