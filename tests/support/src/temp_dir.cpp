// TempDir: mkdtemp + careful teardown (unmount, then delete without ever
// leaving the directory through a symlink or a mount).
#include "berth_test/temp_dir.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

namespace berth_test {
namespace {

// mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo.
std::string unescape_octal(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        bool octal = s[i] == '\\' && i + 3 < s.size();
        for (size_t k = 1; octal && k <= 3; ++k)
            octal = s[i + k] >= '0' && s[i + k] <= '7';
        if (octal) {
            out +=
                static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

bool is_within(const std::string& path, const std::string& root) {
    return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                            path[root.size()] == '/');
}

// Mount points at or below root, deepest first.
std::vector<std::string> mounts_under(const std::string& root) {
    std::vector<std::string> result;
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string id, parent, devno, mount_root, target;
        if (fields >> id >> parent >> devno >> mount_root >> target) {
            target = unescape_octal(target);
            if (is_within(target, root)) result.push_back(target);
        }
    }
    std::sort(result.begin(), result.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    return result;
}

// Detach everything mounted under root. Mounts can be stacked on one mount
// point, so repeat until nothing is left or no progress is made.
void unmount_all(const std::string& root) {
    for (int round = 0; round < 64; ++round) {
        auto mounts = mounts_under(root);
        if (mounts.empty()) return;
        bool progress = false;
        for (const auto& target : mounts) {
            // UMOUNT_NOFOLLOW: a symlink planted inside must not redirect us.
            if (::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
                progress = true;
            else if (errno != EINVAL && errno != ENOENT) // EINVAL: already gone
                std::cerr << "TempDir: umount " << target << ": " << std::strerror(errno) << '\n';
        }
        if (!progress) return;
    }
}

struct Remover {
    dev_t dev;                           // device of the top directory
    std::set<std::string> still_mounted; // mounts we failed to detach
    bool ok = true;

    void fail(const std::string& what, const std::string& path) {
        std::cerr << "TempDir: " << what << ' ' << path << ": " << std::strerror(errno) << '\n';
        ok = false;
    }

    // Opens name in dir as a directory without following a symlink. Root can
    // open anything; for other users a 0000 directory left behind by a test
    // gets its owner bits back first.
    int open_dir(int dir, const char* name) {
        int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        int fd = ::openat(dir, name, flags);
        if (fd < 0 && errno == EACCES && ::fchmodat(dir, name, 0700, 0) == 0)
            fd = ::openat(dir, name, flags);
        return fd;
    }

    // Deletes everything inside the directory open as dir_fd (taken over).
    void remove_contents(int dir_fd, const std::string& path) {
        DIR* d = ::fdopendir(dir_fd);
        if (!d) {
            fail("opendir", path);
            ::close(dir_fd);
            return;
        }
        // Collect names first: unlinking while readdir() walks the same
        // directory may make it skip entries.
        std::vector<std::string> names;
        while (dirent* e = ::readdir(d)) {
            if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
                names.emplace_back(e->d_name);
        }
        int fd = ::dirfd(d);
        for (const auto& name : names)
            remove_entry(fd, name, path + "/" + name);
        ::closedir(d);
    }

    void remove_entry(int parent, const std::string& name, const std::string& path) {
        struct stat st;
        if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT) fail("stat", path);
            return;
        }
        if (S_ISDIR(st.st_mode)) {
            if (st.st_dev != dev || still_mounted.count(path)) {
                std::cerr << "TempDir: leaving " << path << ": still a mount\n";
                ok = false;
                return;
            }
            int fd = open_dir(parent, name.c_str());
            if (fd < 0) {
                fail("open", path);
                return;
            }
            remove_contents(fd, path);
            if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0) fail("rmdir", path);
        } else if (::unlinkat(parent, name.c_str(), 0) != 0 && errno != ENOENT) {
            fail("unlink", path);
        }
    }
};

} // namespace

TempDir::TempDir(std::string_view prefix) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = (tmp && *tmp ? std::string(tmp) : std::string("/tmp")) + "/" +
                          std::string(prefix) + "-XXXXXX";
    if (!::mkdtemp(pattern.data()))
        throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    char* real = ::realpath(pattern.c_str(), nullptr);
    if (!real) {
        int err = errno;
        ::rmdir(pattern.c_str());
        throw std::system_error(err, std::generic_category(), "realpath " + pattern);
    }
    path_ = real;
    std::free(real);
}

TempDir::~TempDir() {
    remove();
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
    if (this != &other) {
        remove();
        path_ = std::exchange(other.path_, {});
    }
    return *this;
}

void TempDir::remove() noexcept {
    if (path_.empty()) return;
    try {
        const std::string root = path_.string();
        unmount_all(root);

        int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || ::fstat(fd, &st) != 0) {
            if (errno != ENOENT)
                std::cerr << "TempDir: open " << root << ": " << std::strerror(errno) << '\n';
            if (fd >= 0) ::close(fd);
            path_.clear();
            return;
        }
        auto left = mounts_under(root);
        Remover remover{st.st_dev, {left.begin(), left.end()}};
        if (remover.still_mounted.count(root)) {
            std::cerr << "TempDir: leaving " << root << ": still a mount\n";
            ::close(fd);
        } else {
            remover.remove_contents(fd, root);
            if (remover.ok && ::rmdir(root.c_str()) != 0) remover.fail("rmdir", root);
        }
    } catch (const std::exception& e) {
        std::cerr << "TempDir: cleanup of " << path_ << " failed: " << e.what() << '\n';
    }
    path_.clear();
}

} // namespace berth_test
