// Container-escape classics: symlinked mount targets, fds leaking from the
// host into the container, a cwd through a leaked fd (CVE-2024-21626) and
// overwriting the runtime binary through /proc/<pid>/exe (CVE-2019-5736).
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "runtime_fixture.hpp"

namespace berth_it {
namespace {

using berth_test::Bundle;
using berth_test::TempDir;

// The test process's own mount table has a mount point at path.
bool host_has_mount_at(const fs::path& path) {
    std::istringstream in(read_text("/proc/self/mountinfo"));
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string id, parent, dev, root, target;
        fields >> id >> parent >> dev >> root >> target;
        if (target == path.string()) return true;
    }
    return false;
}

std::set<std::string> entries_of(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir))
        names.insert(entry.path().filename());
    return names;
}

class Security : public RuntimeTest {
  protected:
    // `sh -c` script that execs the runtime with args (fds set up before).
    std::string exec_runtime(const std::string& args) const {
        return "exec '" + runtime_path() + "' --root '" + root().string() + "' " + args;
    }

    // A mount whose destination is a symlink to a host directory outside
    // the rootfs must be resolved inside the rootfs: the tmpfs shows up in
    // the container at the symlink's target path, and the host directory
    // gets neither the mount nor any new entry.
    void check_symlinked_mount_target(bool relative) {
        TempDir host_dir("berth-escape");
        std::ofstream(host_dir.path() / "marker") << "host";

        Bundle bundle;
        // Relative: enough ".." to climb from the rootfs to the host's "/"
        // wherever $TMPDIR is; inside the container ".." stops at "/".
        const fs::path target =
            relative ? fs::path("../../../../../../../..") / host_dir.path().relative_path()
                     : host_dir.path();
        fs::create_symlink(target, bundle.rootfs() / "escape");
        bundle.config()["mounts"].push_back(
            {{"destination", "/escape"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
        bundle.config()["process"]["args"] = {"/probe"};
        bundle.write_config();

        auto r = runtime({"run", make_id("symlink"), "--bundle", bundle.path()});
        ASSERT_EQ(r.exit_code, 0) << r;
        json report = berth_test::parse_probe_output(r.out);
        bool inside = false;
        for (const auto& m : report.at("mounts"))
            inside =
                inside || (m.at("target") == host_dir.path().string() && m.at("fstype") == "tmpfs");
        EXPECT_TRUE(inside) << "no tmpfs at " << host_dir.path()
                            << " inside the container: the mount went elsewhere\n"
                            << report.at("mounts").dump(1);
        EXPECT_FALSE(host_has_mount_at(host_dir.path())) << "the tmpfs landed on the host";
        EXPECT_EQ(entries_of(host_dir.path()), (std::set<std::string>{"marker"}));
        EXPECT_EQ(read_text(host_dir.path() / "marker"), "host");
    }
};

TEST_F(Security, AbsoluteSymlinkMountTargetStaysInRootfs) {
    check_symlinked_mount_target(false);
}

TEST_F(Security, RelativeSymlinkMountTargetStaysInRootfs) {
    check_symlinked_mount_target(true);
}

// An fd the runtime inherits (here 5, opened on the host's "/") must not
// reach the container: with it, the container could reach the host's
// filesystem through /proc/self/fd/5.
TEST_F(Security, InheritedFdsDoNotLeakIntoContainer) {
    Bundle bundle;
    bundle.config()["process"]["args"] = {"/probe"};
    bundle.write_config();
    auto r = berth_test::run_command(
        {"/bin/sh", "-c",
         "exec 5</; " + exec_runtime("run " + make_id("fdleak") + " --bundle '" +
                                     bundle.path().string() + "'")});
    ASSERT_EQ(r.exit_code, 0) << r;
    json report = berth_test::parse_probe_output(r.out);
    EXPECT_EQ(probe_fds(report), (std::set<int>{0, 1, 2})) << report.at("fds").dump();
}

// --preserve-fds N passes exactly fds 3..3+N-1 and still nothing else.
TEST_F(Security, PreserveFdsPassesOnlyTheRequestedFds) {
    Bundle bundle;
    bundle.config()["process"]["args"] = {"/probe"};
    bundle.write_config();
    auto r = berth_test::run_command(
        {"/bin/sh", "-c",
         "exec 3</ 5</; " + exec_runtime("run " + make_id("preserve") + " --bundle '" +
                                         bundle.path().string() + "' --preserve-fds 1")});
    ASSERT_EQ(r.exit_code, 0) << r;
    json report = berth_test::parse_probe_output(r.out);
    EXPECT_EQ(probe_fds(report), (std::set<int>{0, 1, 2, 3})) << report.at("fds").dump();
}

// CVE-2024-21626: process.cwd through /proc/self/fd/N. If fd N were a host
// directory still open in the runtime when it chdirs (leaked by the caller,
// or one of the runtime's own), the container would start with a cwd on the
// host filesystem. The only safe outcome is a failed run. fds 3..9 cover the
// runtime's own descriptors as well as the leaked 5.
TEST_F(Security, CwdThroughLeakedFdIsRefused) {
    for (int fd = 3; fd <= 9; ++fd) {
        SCOPED_TRACE("cwd /proc/self/fd/" + std::to_string(fd));
        Bundle bundle;
        bundle.config()["process"]["args"] = {"/probe"};
        bundle.config()["process"]["cwd"] = "/proc/self/fd/" + std::to_string(fd);
        bundle.write_config();
        auto r = berth_test::run_command(
            {"/bin/sh", "-c",
             "exec 5</; " + exec_runtime("run " + make_id("cwd" + std::to_string(fd)) +
                                         " --bundle '" + bundle.path().string() + "'")});
        EXPECT_NE(r.exit_code, 0) << "the process ran with cwd /proc/self/fd/" << fd << "\n" << r;
        EXPECT_EQ(r.out.find("\"cwd\""), std::string::npos) << "the probe ran\n" << r;
    }
}

// CVE-2019-5736: a container process opens /proc/<init>/exe (the runtime's
// own binary while init is set up), waits for the runtime to exit, and
// reopens it for writing to replace the host's runtime. The runtime must run
// from a copy that cannot be written: here, a read-only bind mount (EROFS).
// Nothing is ever written: if the open succeeds it is closed at once.
TEST_F(Security, RuntimeBinaryCannotBeReopenedForWriting) {
    Bundle bundle;
    bundle.config()["process"]["args"] = {"/probe", "sleep", "30"};
    bundle.write_config();
    const std::string id = make_id("exe");
    auto created = runtime({"create", id, "--bundle", bundle.path()});
    ASSERT_EQ(created.exit_code, 0) << created;
    const pid_t pid = state(id).value("pid", 0);
    ASSERT_GT(pid, 0);

    const std::string exe = "/proc/" + std::to_string(pid) + "/exe";
    const int path_fd = ::open(exe.c_str(), O_PATH | O_CLOEXEC);
    ASSERT_GE(path_fd, 0) << exe << ": " << std::strerror(errno);

    auto deleted = runtime({"delete", "--force", id});
    EXPECT_EQ(deleted.exit_code, 0) << deleted;
    EXPECT_TRUE(wait_process_gone(pid));

    // The file behind the fd sits on a read-only mount. This is the real
    // protection, and unlike the open below it does not depend on timing.
    struct statvfs fs_info {};
    ASSERT_EQ(::fstatvfs(path_fd, &fs_info), 0) << std::strerror(errno);
    EXPECT_TRUE(fs_info.f_flag & ST_RDONLY) << "init ran from a writable mount of the binary";

    // With init gone, nothing but that mount stops a write open. The kernel
    // checks "being executed" (ETXTBSY) before the mount (EROFS): a runtime
    // process of a test running in parallel executes the same file, so
    // ETXTBSY is tolerated; the fstatvfs check above covers that case.
    const std::string reopen = "/proc/self/fd/" + std::to_string(path_fd);
    const int write_fd = ::open(reopen.c_str(), O_WRONLY | O_CLOEXEC);
    const int err = errno;
    if (write_fd >= 0) {
        ::close(write_fd);
        ADD_FAILURE() << "the runtime binary behind " << exe << " could be opened for writing";
    } else {
        EXPECT_TRUE(err == EROFS || err == ETXTBSY) << "expected EROFS, got " << std::strerror(err);
    }
    ::close(path_fd);
}

} // namespace
} // namespace berth_it
