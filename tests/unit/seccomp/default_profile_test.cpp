// data/seccomp/default.json: ordinary programs run under it, and the calls
// that reach past the container (mounts, namespaces, keys, modules, bpf...)
// fail with EPERM.
#include "berth/base/files.h"
#include "berth/runtime/seccomp.h"
#include "child_process.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <csignal>
#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using berth::runtime::seccomp::Filter;
using berth::test::describe_status;
using berth::test::expect_errno;
using berth::test::run_in_child;

namespace {

const Filter& default_filter() {
    static const Filter filter =
        Filter::compile(nlohmann::json::parse(berth::read_file(BERTH_SECCOMP_DEFAULT_PROFILE)));
    return filter;
}

struct Outcome {
    int status;
    std::string output;
};

// Execs `argv` under the default profile, as a container's process would be
// (no_new_privs, then the filter, then exec), and collects its stdout.
Outcome run_confined(const std::vector<std::string>& argv) {
    const Filter& filter = default_filter();
    int pipe_fds[2];
    if (::pipe(pipe_fds) < 0) return {-1, "pipe failed"};
    berth::test::ChildGuard child(berth::test::start_child([&] {
        ::dup2(pipe_fds[1], STDOUT_FILENO);
        ::close(pipe_fds[0]);
        ::close(pipe_fds[1]);
        std::vector<char*> args;
        args.reserve(argv.size() + 1);
        for (const auto& arg : argv)
            args.push_back(const_cast<char*>(arg.c_str()));
        args.push_back(nullptr);
        ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        filter.load();
        ::execv(args[0], args.data());
        return 127;
    }));
    ::close(pipe_fds[1]);
    std::string output = berth::read_all(pipe_fds[0]);
    ::close(pipe_fds[0]);
    return {child.wait(), output};
}

TEST(SeccompDefaultProfile, CompilesAndSkipsOnlyCallsNewerThanLibseccomp) {
    const Filter& filter = default_filter();
    EXPECT_FALSE(filter.wants_notify());
    for (const auto& name : filter.skipped_syscalls())
        EXPECT_TRUE(name != "read" && name != "openat" && name != "clone") << name;
    std::printf("default.json: %zu BPF instructions; skipped (unknown to libseccomp):",
                filter.instruction_count());
    for (const auto& name : filter.skipped_syscalls())
        std::printf(" %s", name.c_str());
    std::printf("\n");
}

struct ProgramCase {
    const char* name;
    std::vector<std::string> argv;
    std::string output;
};

class ProgramsUnderDefaultProfile : public testing::TestWithParam<ProgramCase> {};

TEST_P(ProgramsUnderDefaultProfile, Run) {
    if (::access(GetParam().argv[0].c_str(), X_OK) != 0)
        GTEST_SKIP() << GetParam().argv[0] << " is not installed";
    Outcome outcome = run_confined(GetParam().argv);
    EXPECT_EQ(describe_status(outcome.status), "exited with 0") << outcome.output;
    if (!GetParam().output.empty()) {
        EXPECT_EQ(outcome.output, GetParam().output);
    }
}

const char* python_program = R"(
import os, socket, subprocess, tempfile, threading
t = threading.Thread(target=lambda: None); t.start(); t.join()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM); s.bind(("127.0.0.1", 0)); s.listen(); s.close()
a, b = socket.socketpair(); a.send(b"x"); assert b.recv(1) == b"x"
print(subprocess.run(["/bin/echo", "child"], capture_output=True).stdout.decode().strip())
with tempfile.TemporaryDirectory() as d:
    with open(os.path.join(d, "f"), "w") as f: f.write("x")
    os.rename(os.path.join(d, "f"), os.path.join(d, "g"))
print("done")
)";

INSTANTIATE_TEST_SUITE_P(
    Seccomp, ProgramsUnderDefaultProfile,
    testing::Values(
        ProgramCase{"BusyboxTrue", {"/bin/busybox", "true"}, ""},
        ProgramCase{"Ls", {"/bin/ls", "-la", "/", "/proc/self/"}, ""},
        ProgramCase{"ShEcho", {"/bin/sh", "-c", "echo hello"}, "hello\n"},
        ProgramCase{"BusyboxShPipeline",
                    {"/bin/busybox", "sh", "-c",
                     "echo a | cat; (true) && ls / > /dev/null; id -u > /dev/null; echo $(echo b)"},
                    "a\nb\n"},
        ProgramCase{"BusyboxPs", {"/bin/busybox", "ps"}, ""},
        ProgramCase{"Python", {"/usr/bin/python3", "-c", python_program}, "child\ndone\n"}),
    [](const testing::TestParamInfo<ProgramCase>& info) { return info.param.name; });

TEST(SeccompDefaultProfile, RefusesCallsThatReachPastTheContainer) {
    const Filter& filter = default_filter();
    int status = run_in_child([&] {
        ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        filter.load();
        int failures = 0;
        auto refused = [&](long result, const char* what) {
            failures += expect_errno(result, EPERM, what);
        };
        refused(::syscall(SYS_unshare, CLONE_NEWNS), "unshare");
        refused(::syscall(SYS_setns, 0, 0), "setns");
        refused(::syscall(SYS_mount, "none", "/mnt", "tmpfs", 0, nullptr), "mount");
        refused(::syscall(SYS_umount2, "/proc", MNT_DETACH), "umount2");
        refused(::syscall(SYS_pivot_root, "/", "/"), "pivot_root");
        refused(::syscall(SYS_open_tree, -1, "/", 0), "open_tree");
        refused(::syscall(SYS_fsopen, "tmpfs", 0), "fsopen");
        refused(::syscall(SYS_keyctl, 0, 0, 0, 0, 0), "keyctl");
        refused(::syscall(SYS_add_key, "user", "k", "v", 1, 0), "add_key");
        refused(::syscall(SYS_request_key, "user", "k", nullptr, 0), "request_key");
        refused(::syscall(SYS_bpf, 0, nullptr, 0), "bpf");
        refused(::syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0), "perf_event_open");
        refused(::syscall(SYS_userfaultfd, 0), "userfaultfd");
        refused(::syscall(SYS_io_uring_setup, 1, nullptr), "io_uring_setup");
        refused(::syscall(SYS_open_by_handle_at, -1, nullptr, 0), "open_by_handle_at");
        refused(::syscall(SYS_init_module, nullptr, 0, ""), "init_module");
        refused(::syscall(SYS_kexec_load, 0, 0, nullptr, 0), "kexec_load");
        refused(::syscall(SYS_reboot, 0, 0, 0, nullptr), "reboot");
        refused(::syscall(SYS_swapoff, "/swap"), "swapoff");
        refused(::syscall(SYS_settimeofday, nullptr, nullptr), "settimeofday");
        refused(::syscall(SYS_personality, static_cast<unsigned long>(ADDR_NO_RANDOMIZE)),
                "personality(ADDR_NO_RANDOMIZE)");
        refused(::syscall(SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM, 0), "socket(AF_VSOCK)");
        refused(::syscall(SYS_socket, 38 /* AF_ALG */, SOCK_SEQPACKET, 0), "socket(AF_ALG)");
        // clone with a namespace flag is refused; should the rule fail, the
        // new child must not run the rest of this test.
        long cloned = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
        if (cloned == 0) ::_exit(0);
        refused(cloned, "clone(CLONE_NEWUSER)");
        // clone3's flags are in memory the filter cannot read: ENOSYS sends
        // glibc back to clone.
        failures += expect_errno(::syscall(SYS_clone3, nullptr, 0), ENOSYS, "clone3");
        // Newer than anything the profile names.
        failures += expect_errno(::syscall(1000), ENOSYS, "syscall 1000");
        return failures;
    });
    EXPECT_EQ(describe_status(status), "exited with 0");
}

TEST(SeccompDefaultProfile, AllowsForkThreadsAndOrdinarySockets) {
    const Filter& filter = default_filter();
    int status = run_in_child([&] {
        ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        filter.load();
        int failures = 0;
        pid_t forked = ::fork();
        if (forked == 0) ::_exit(7);
        int forked_status = 0;
        ::waitpid(forked, &forked_status, 0);
        if (!WIFEXITED(forked_status) || WEXITSTATUS(forked_status) != 7) ++failures;
        bool ran = false;
        std::thread([&] { ran = true; }).join();
        if (!ran) ++failures;
        for (int family : {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK}) {
            int fd = ::socket(family, family == AF_NETLINK ? SOCK_RAW : SOCK_STREAM, 0);
            failures += expect_errno(fd, 0, "socket");
            ::close(fd);
        }
        failures += expect_errno(::syscall(SYS_personality, 0xffffffffUL), 0, "personality query");
        return failures;
    });
    EXPECT_EQ(describe_status(status), "exited with 0");
}

} // namespace
