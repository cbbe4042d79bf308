// Bundle: a minimal busybox rootfs plus config.json.
#include "berth_test/bundle.hpp"

#include <cerrno>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include <sys/stat.h>
#include <unistd.h>

#include "berth_test/default_config.hpp"

namespace berth_test {
namespace fs = std::filesystem;
namespace {

// Applets tests are expected to use; each becomes bin/<name> -> busybox.
constexpr const char* kApplets[] = {
    "sh",      "ash",      "true",    "false",    "echo", "cat",    "sleep", "ls",    "mkdir",
    "id",      "hostname", "env",     "kill",     "ps",   "grep",   "touch", "rm",    "rmdir",
    "mount",   "umount",   "stat",    "readlink", "test", "[",      "pwd",   "ln",    "chmod",
    "chown",   "cp",       "mv",      "head",     "tail", "wc",     "cut",   "sed",   "tr",
    "uname",   "whoami",   "nproc",   "printf",   "dd",   "mkfifo", "find",  "sort",  "timeout",
    "nsenter", "unshare",  "setpriv", "tty",      "stty", "df",     "du",    "which", "xargs",
};

void write_file(const fs::path& path, const std::string& content, mode_t mode = 0644) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) throw std::runtime_error("Bundle: cannot write " + path.string());
    fs::permissions(path, static_cast<fs::perms>(mode));
}

void copy_executable(const fs::path& from, const fs::path& to) {
    if (!fs::is_regular_file(from))
        throw std::runtime_error("Bundle: missing executable " + from.string());
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    fs::permissions(to, static_cast<fs::perms>(0755));
}

void make_dir(const fs::path& path, mode_t mode = 0755) {
    fs::create_directories(path);
    // Explicit chmod: create_directories is subject to the test's umask.
    fs::permissions(path, static_cast<fs::perms>(mode));
}

} // namespace

Bundle::Bundle(const fs::path& probe) : dir_("berth-bundle"), config_(default_config()) {
    // mkdtemp makes the bundle 0700; containers with a user namespace resolve
    // the rootfs path as an unprivileged host uid and need to traverse it.
    fs::permissions(path(), static_cast<fs::perms>(0755));

    const fs::path root = rootfs();
    make_dir(root);
    for (const char* dir : {"bin", "etc", "proc", "sys", "dev", "root"})
        make_dir(root / dir);
    make_dir(root / "tmp", 01777);

    copy_executable("/bin/busybox", root / "bin/busybox");
    for (const char* applet : kApplets)
        fs::create_symlink("busybox", root / "bin" / applet);
    copy_executable(probe, root / std::string(kProbeInContainer).substr(1));

    write_file(root / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                                    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
    // tty (gid 5) matches the gid= option of the default /dev/pts mount.
    write_file(root / "etc/group", "root:x:0:\n"
                                   "tty:x:5:\n"
                                   "nobody:x:65534:\n");
    write_config();
}

void Bundle::write_config() const {
    // Write-then-rename so a runtime never sees a half-written file.
    const fs::path tmp = path() / "config.json.tmp";
    write_file(tmp, config_.dump(4) + "\n");
    fs::rename(tmp, config_path());
}

} // namespace berth_test
