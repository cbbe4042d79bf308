// The real cgroup v2 code paths on a hybrid host: a child process makes a
// private mount namespace, mounts a fresh cgroup2 (the host's v2 hierarchy,
// without controllers here) and runs a container's cgroup life against it:
// create, join, freeze through cgroup.freeze, kill through cgroup.kill,
// device rules through eBPF, removal. It reports back through a pipe.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/runtime/cgroups.h"
#include "berth_test/temp_dir.hpp"
#include "control_files.h"
#include "real_cgroups.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace berth::runtime::cgroups;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Skip {
    std::string why;
};

void check(bool condition, const std::string& what) {
    if (!condition) throw std::runtime_error("check failed: " + what);
}

int wait_status(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

bool killed_by(int status, int signal) {
    return WIFSIGNALED(status) && WTERMSIG(status) == signal;
}

std::uint32_t attached_device_programs(const std::string& directory) {
    berth::UniqueFd cgroup = berth::open_fd(directory, O_RDONLY | O_DIRECTORY);
    std::uint32_t ids[8];
    bpf_attr attr{};
    attr.query.target_fd = static_cast<std::uint32_t>(cgroup.get());
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = reinterpret_cast<std::uint64_t>(ids);
    attr.query.prog_cnt = 8;
    if (::syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof attr) < 0)
        throw std::runtime_error(std::string("BPF_PROG_QUERY: ") + std::strerror(errno));
    return attr.query.prog_cnt;
}

// A child started directly inside the cgroup (clone3's CLONE_INTO_CGROUP)
// that reports through its exit code what opening two devices did.
pid_t start_device_prober(int cgroup_fd) {
    clone_args args{};
    args.flags = CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0)
        throw std::runtime_error(std::string("clone3 into the cgroup: ") + std::strerror(errno));
    if (pid == 0) {
        int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        int zero_fd = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
        int zero_errno = errno;
        ::_exit((null_fd >= 0 ? 0 : 1) | (zero_fd < 0 && zero_errno == EPERM ? 0 : 2));
    }
    return static_cast<pid_t>(pid);
}

void run_scenario(const std::string& mountpoint, const std::string& parent) {
    if (::unshare(CLONE_NEWNS) < 0) throw Skip{std::string("unshare: ") + std::strerror(errno)};
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
        throw Skip{std::string("making / private: ") + std::strerror(errno)};
    if (::mount("cgroup2", mountpoint.c_str(), "cgroup2", 0, nullptr) < 0)
        throw Skip{std::string("mounting cgroup2: ") + std::strerror(errno)};
    check(detect_mode(mountpoint) == Mode::v2, "detect_mode of a cgroup2 mount is v2");

    Cgroup c =
        Cgroup::for_container("/" + parent + "/x", "x", Host{Mode::v2, mountpoint, "0::/\n"});
    std::string directory = c.placements().at("unified").directory;
    c.create();
    check(fs::is_directory(directory), "create made " + directory);

    cgroups_test::SleepingChild sleeper;
    c.add_process(sleeper.pid());
    check(c.pids() == std::vector<pid_t>{sleeper.pid()}, "pids() lists the sleeper");
    std::string self = berth::read_file("/proc/" + std::to_string(sleeper.pid()) + "/cgroup");
    check(self.find("0::/" + parent + "/x\n") != std::string::npos, "sleeper's 0:: line: " + self);

    c.freeze();
    check(read_keyed_control(directory, "cgroup.events")["frozen"] == 1, "cgroup.events frozen 1");
    check(c.frozen(), "frozen() after freeze()");
    c.thaw();
    check(!c.frozen(), "!frozen() after thaw()");
    check(read_control_trimmed(directory, "cgroup.freeze") == "0", "cgroup.freeze 0 after thaw");

    c.apply_resources(json::parse(R"({"devices": [{"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]})"));
    // Applying again replaces the program rather than stacking a second one.
    c.apply_resources(json::parse(R"({"devices": [{"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]})"));
    check(attached_device_programs(directory) == 1, "one device program after two applies");
    // Before any cgroup.kill: this kernel (6.18) kills a clone3 into a cgroup
    // that has seen one, comparing against the kill count of the parent's cgroup.
    berth::UniqueFd cgroup_fd = c.v2_directory_fd();
    check(static_cast<bool>(cgroup_fd), "v2_directory_fd on v2");
    int status = wait_status(start_device_prober(cgroup_fd.get()));
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "in the cgroup /dev/null opens and /dev/zero gets EPERM (prober exit " +
              std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status)) + ")");

    c.kill_all(SIGKILL);
    check(killed_by(sleeper.wait(), SIGKILL), "cgroup.kill killed the sleeper");

    cgroups_test::SleepingChild terminated;
    c.add_process(terminated.pid());
    c.kill_all(SIGTERM); // freeze, signal each, thaw
    check(killed_by(terminated.wait(), SIGTERM), "kill_all(SIGTERM) reached the process");
    check(!c.frozen(), "kill_all left the cgroup thawed");

    cgroups_test::SleepingChild left_over;
    c.add_process(left_over.pid());
    c.destroy();
    check(killed_by(left_over.wait(), SIGKILL), "destroy killed the process left");
    check(!fs::exists(directory), "destroy removed " + directory);
    check(::rmdir((mountpoint + "/" + parent).c_str()) == 0, "removing the test parent");
    ::umount2(mountpoint.c_str(), MNT_DETACH);
}

// In the forked child: the scenario's outcome as text ("" when it passed).
std::string scenario_outcome(const std::string& mountpoint, const std::string& parent) {
    try {
        run_scenario(mountpoint, parent);
        return "";
    } catch (const Skip& skip) {
        return "SKIP " + skip.why;
    } catch (const std::exception& error) {
        // Leave nothing behind in the host's hierarchy, which outlives this namespace.
        std::error_code ignored;
        fs::path parent_dir = fs::path(mountpoint) / parent;
        if (fs::exists(parent_dir / "x" / "cgroup.kill"))
            berth::write_existing_file((parent_dir / "x" / "cgroup.kill").string(), "1");
        for (int i = 0; i < 50 && ::rmdir((parent_dir / "x").c_str()) < 0 && errno == EBUSY; ++i)
            ::usleep(20000);
        ::rmdir(parent_dir.c_str());
        return error.what();
    }
}

} // namespace

TEST(RealV2, ContainerLifeInAPrivateCgroup2Mount) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    berth_test::TempDir mountpoint("cgroup2");
    std::string parent = cgroups_test::test_parent_name();
    int report[2];
    ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(report[0]);
        std::string outcome = scenario_outcome(mountpoint.path().string(), parent);
        (void)!::write(report[1], outcome.data(), outcome.size());
        ::_exit(outcome.empty() ? 0 : 1);
    }
    ::close(report[1]);
    std::string outcome = berth::read_all(report[0]);
    ::close(report[0]);
    int status = wait_status(child);
    if (outcome.rfind("SKIP ", 0) == 0) GTEST_SKIP() << outcome.substr(5);
    EXPECT_EQ(outcome, "");
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}
