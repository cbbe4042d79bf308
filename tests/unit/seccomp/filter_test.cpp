// Filters loaded into forked children: each action, argument comparisons,
// flags, and the ENOSYS answer for calls newer than the profile.
#include "berth/base/error.h"
#include "berth/runtime/seccomp.h"
#include "child_process.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using berth::runtime::seccomp::Filter;
using berth::test::describe_status;
using berth::test::expect_errno;
using berth::test::run_in_child;
using nlohmann::json;

namespace {

// A directory name no test creates for real: the filter answers first.
constexpr const char* probe_dir = "/tmp/berth-seccomp-test-never-created";

long raw_mkdir() {
    return ::syscall(SYS_mkdir, probe_dir, 0700);
}

json allow_all_but(json rules) {
    return {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", std::move(rules)}};
}

// Loads `filter` in a child after no_new_privs, then runs `checks` there.
int status_after_loading(const Filter& filter, const std::function<int()>& checks) {
    return run_in_child([&] {
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return 120;
        filter.load();
        return checks();
    });
}

#define EXPECT_EXITS_ZERO(status) EXPECT_EQ(describe_status(status), "exited with 0")

TEST(SeccompLoad, ErrnoRuleFailsOnlyThatCall) {
    Filter filter = Filter::compile(allow_all_but(
        {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", ENOTSUP}}}));
    EXPECT_EXITS_ZERO(status_after_loading(filter, [] {
        int pipe_fds[2];
        int failures = expect_errno(raw_mkdir(), ENOTSUP, "mkdir");
        failures += expect_errno(::pipe(pipe_fds), 0, "pipe");
        failures += expect_errno(::write(pipe_fds[1], "x", 1), 0, "write");
        failures += expect_errno(::getpid(), 0, "getpid");
        failures += expect_errno(::syscall(SYS_rmdir, probe_dir), ENOENT, "rmdir");
        return failures;
    }));
}

TEST(SeccompLoad, ErrnoWithoutErrnoRetIsEperm) {
    Filter filter =
        Filter::compile(allow_all_but({{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}}}));
    EXPECT_EXITS_ZERO(
        status_after_loading(filter, [] { return expect_errno(raw_mkdir(), EPERM, "mkdir"); }));
}

TEST(SeccompLoad, MaskedAndEqualComparisons) {
    // personality(0xffffffff) only asks; 8 (PER_LINUX32 in the low byte) and
    // READ_IMPLIES_EXEC are refused, each by its own rule.
    Filter filter = Filter::compile(allow_all_but(
        {{{"names", {"personality"}},
          {"action", "SCMP_ACT_ERRNO"},
          {"args",
           {{{"index", 0}, {"value", 0xff}, {"valueTwo", 8}, {"op", "SCMP_CMP_MASKED_EQ"}}}}},
         {{"names", {"personality"}},
          {"action", "SCMP_ACT_ERRNO"},
          {"errnoRet", EINVAL},
          {"args", {{{"index", 0}, {"value", READ_IMPLIES_EXEC}, {"op", "SCMP_CMP_EQ"}}}}}}));
    EXPECT_EXITS_ZERO(status_after_loading(filter, [] {
        int failures = expect_errno(::syscall(SYS_personality, 0xffffffffUL), 0, "query");
        failures += expect_errno(::syscall(SYS_personality, 8UL), EPERM, "personality(8)");
        failures += expect_errno(::syscall(SYS_personality, 0x108UL), EPERM, "personality(0x108)");
        failures +=
            expect_errno(::syscall(SYS_personality, static_cast<unsigned long>(READ_IMPLIES_EXEC)),
                         EINVAL, "personality(READ_IMPLIES_EXEC)");
        failures += expect_errno(::syscall(SYS_personality, 0UL), 0, "personality(PER_LINUX)");
        return failures;
    }));
}

TEST(SeccompLoad, ConditionsOnDifferentArgumentsMustAllHold) {
    Filter filter = Filter::compile(
        allow_all_but({{{"names", {"getpriority"}},
                        {"action", "SCMP_ACT_ERRNO"},
                        {"errnoRet", E2BIG},
                        {"args",
                         {{{"index", 0}, {"value", PRIO_PROCESS}, {"op", "SCMP_CMP_EQ"}},
                          {{"index", 1}, {"value", 1000}, {"op", "SCMP_CMP_GE"}}}}}}));
    EXPECT_EXITS_ZERO(status_after_loading(filter, [] {
        int failures =
            expect_errno(::syscall(SYS_getpriority, PRIO_PROCESS, 4000000), E2BIG, "both");
        failures += expect_errno(::syscall(SYS_getpriority, PRIO_PROCESS, 0), 0, "first only");
        // No such user: the kernel's own answer, not the filter's.
        failures +=
            expect_errno(::syscall(SYS_getpriority, PRIO_USER, 4000000), ESRCH, "second only");
        return failures;
    }));
}

TEST(SeccompLoad, TwoConditionsOnOneArgumentAreAlternatives) {
    // runc's reading, which existing profiles rely on: one rule per condition.
    Filter filter = Filter::compile(
        allow_all_but({{{"names", {"getpriority"}},
                        {"action", "SCMP_ACT_ERRNO"},
                        {"errnoRet", E2BIG},
                        {"args",
                         {{{"index", 0}, {"value", PRIO_PGRP}, {"op", "SCMP_CMP_EQ"}},
                          {{"index", 0}, {"value", PRIO_USER}, {"op", "SCMP_CMP_EQ"}}}}}}));
    EXPECT_EXITS_ZERO(status_after_loading(filter, [] {
        int failures = expect_errno(::syscall(SYS_getpriority, PRIO_PGRP, 0), E2BIG, "PGRP");
        failures += expect_errno(::syscall(SYS_getpriority, PRIO_USER, 0), E2BIG, "USER");
        failures += expect_errno(::syscall(SYS_getpriority, PRIO_PROCESS, 0), 0, "PROCESS");
        return failures;
    }));
}

TEST(SeccompLoad, KillProcessEndsTheChildWithSigsys) {
    for (const char* action : {"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD"}) {
        Filter filter =
            Filter::compile(allow_all_but({{{"names", {"mkdir"}}, {"action", action}}}));
        int status = status_after_loading(filter, [] {
            raw_mkdir();
            return 0;
        });
        EXPECT_EQ(describe_status(status), describe_status(SIGSYS)) << action;
    }
}

std::atomic<int> trapped_syscall{-1};
std::atomic<int> trapped_code{-1};

void on_sigsys(int, siginfo_t* info, void*) {
    trapped_syscall = info->si_syscall;
    trapped_code = info->si_code;
}

TEST(SeccompLoad, TrapRaisesSigsysNamingTheCall) {
    Filter filter =
        Filter::compile(allow_all_but({{{"names", {"mkdir"}}, {"action", "SCMP_ACT_TRAP"}}}));
    EXPECT_EXITS_ZERO(status_after_loading(filter, [] {
        struct sigaction action {};
        action.sa_sigaction = on_sigsys;
        action.sa_flags = SA_SIGINFO;
        ::sigaction(SIGSYS, &action, nullptr);
        raw_mkdir();
        if (trapped_syscall != SYS_mkdir || trapped_code != 1 /* SYS_SECCOMP */) {
            std::fprintf(stderr, "trapped syscall %d code %d\n", trapped_syscall.load(),
                         trapped_code.load());
            return 1;
        }
        return ::access(probe_dir, F_OK) == 0 ? 2 : 0; // and mkdir did not run
    }));
}

TEST(SeccompLoad, TraceWithoutATracerFailsWithEnosys) {
    Filter filter =
        Filter::compile(allow_all_but({{{"names", {"mkdir"}}, {"action", "SCMP_ACT_TRACE"}}}));
    EXPECT_EXITS_ZERO(
        status_after_loading(filter, [] { return expect_errno(raw_mkdir(), ENOSYS, "mkdir"); }));
}

// The kernel's audit record of a logged call, from /dev/kmsg when no audit
// daemon takes it: "... pid=N ... syscall=110 ... code=0x7ffc0000".
bool kernel_logged(int kmsg, pid_t pid, long syscall_number) {
    std::string wanted_pid = " pid=" + std::to_string(pid) + " ";
    std::string wanted_call = " syscall=" + std::to_string(syscall_number) + " ";
    char record[8192];
    ssize_t n;
    while ((n = ::read(kmsg, record, sizeof record - 1)) > 0 || (n < 0 && errno == EPIPE)) {
        if (n <= 0) continue; // EPIPE: records were overwritten; read on
        std::string text(record, static_cast<std::size_t>(n));
        if (text.find(wanted_pid) != std::string::npos &&
            text.find(wanted_call) != std::string::npos &&
            text.find("code=0x7ffc0000") != std::string::npos)
            return true;
    }
    return false;
}

TEST(SeccompLoad, LogLetsTheCallRunAndTheKernelRecordsIt) {
    Filter filter =
        Filter::compile(allow_all_but({{{"names", {"getppid"}}, {"action", "SCMP_ACT_LOG"}}}));
    pid_t parent = ::getpid();
    int kmsg = ::open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    // The kernel rate-limits these records (10 per 5 s), so a few tries.
    bool recorded = false;
    for (int attempt = 0; attempt < 3 && !recorded; ++attempt) {
        if (attempt > 0) ::sleep(3);
        if (kmsg >= 0) ::lseek(kmsg, 0, SEEK_END);
        pid_t child = berth::test::start_child([&] {
            ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            filter.load();
            return ::syscall(SYS_getppid) == parent ? 0 : 1;
        });
        EXPECT_EQ(describe_status(berth::test::ChildGuard(child).wait()), "exited with 0");
        recorded = kmsg < 0 || kernel_logged(kmsg, child, SYS_getppid);
    }
    if (kmsg < 0) GTEST_SKIP() << "cannot read /dev/kmsg to see the record";
    ::close(kmsg);
    EXPECT_TRUE(recorded) << "no audit record of the logged getppid in /dev/kmsg";
}

TEST(SeccompLoad, AllowListAnswersEnosysForCallsNewerThanTheProfile) {
    // Only what the child needs to report and exit; getppid is older than
    // exit_group (the highest number named), membarrier newer.
    Filter filter = Filter::compile(
        {{"defaultAction", "SCMP_ACT_ERRNO"},
         {"defaultErrnoRet", ENOTSUP},
         {"syscalls",
          {{{"names", {"write", "exit", "exit_group"}}, {"action", "SCMP_ACT_ALLOW"}}}}});
    EXPECT_EXITS_ZERO(status_after_loading(filter, [] {
        int failures = expect_errno(::syscall(SYS_getppid), ENOTSUP, "getppid");
        failures += expect_errno(::syscall(SYS_membarrier, 0, 0), ENOSYS, "membarrier");
        failures += expect_errno(::syscall(1000), ENOSYS, "syscall 1000");
        return failures;
    }));
}

TEST(SeccompLoad, DenyListLetsNewCallsRun) {
    Filter filter =
        Filter::compile(allow_all_but({{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}}}));
    EXPECT_EXITS_ZERO(status_after_loading(filter, [] {
        return expect_errno(::syscall(SYS_membarrier, 0 /* MEMBARRIER_CMD_QUERY */, 0), 0,
                            "membarrier");
    }));
}

TEST(SeccompLoad, TsyncReachesEveryThread) {
    Filter filter = Filter::compile(
        {{"defaultAction", "SCMP_ACT_ALLOW"},
         {"flags", {"SECCOMP_FILTER_FLAG_TSYNC"}},
         {"syscalls",
          {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", ENOTSUP}}}}});
    EXPECT_EXITS_ZERO(status_after_loading(filter, [] { return 0; }));
    EXPECT_EXITS_ZERO(run_in_child([&] {
        ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        std::atomic<bool> loaded{false};
        int failures = 0;
        std::thread other([&] {
            while (!loaded)
                std::this_thread::yield();
            failures = expect_errno(raw_mkdir(), ENOTSUP, "mkdir in the other thread");
        });
        filter.load();
        loaded = true;
        other.join();
        return failures;
    }));
}

TEST(SeccompLoad, LogAndSpecAllowFlagsLoad) {
    Filter filter =
        Filter::compile({{"defaultAction", "SCMP_ACT_ALLOW"},
                         {"flags", {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"}},
                         {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}}}}});
    EXPECT_EXITS_ZERO(
        status_after_loading(filter, [] { return expect_errno(raw_mkdir(), EPERM, "mkdir"); }));
}

TEST(SeccompLoad, WithoutNoNewPrivsOrCapSysAdminSaysWhatIsMissing) {
    Filter filter =
        Filter::compile(allow_all_but({{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}}}));
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    int status = run_in_child([&] {
        ::close(pipe_fds[0]);
        // Leaving root drops every capability.
        if (::setresgid(65534, 65534, 65534) < 0 || ::setresuid(65534, 65534, 65534) < 0)
            return 120;
        try {
            filter.load();
        } catch (const berth::Error& error) {
            std::string message = error.what();
            if (::write(pipe_fds[1], message.data(), message.size()) < 0) return 121;
            return 0;
        }
        return 1;
    });
    ::close(pipe_fds[1]);
    char message[512] = {};
    ssize_t n = ::read(pipe_fds[0], message, sizeof message - 1);
    ::close(pipe_fds[0]);
    EXPECT_EXITS_ZERO(status);
    ASSERT_GT(n, 0);
    EXPECT_STREQ(message, "loading the seccomp filter (set no_new_privs, or keep CAP_SYS_ADMIN "
                          "until the filter is loaded): Permission denied");
}

// int $0x80 enters the kernel as i386, a different architecture to seccomp.
long i386_syscall(long number, const char* path, long mode) {
    long result;
    asm volatile("int $0x80" : "=a"(result) : "a"(number), "b"(path), "c"(mode) : "memory");
    return result;
}

TEST(SeccompLoad, RulesCoverEveryListedArchitecture) {
#if defined(__x86_64__)
    constexpr long i386_getpid = 20, i386_mkdir = 39;
    // Is 32-bit emulation on in this kernel at all?
    if (describe_status(run_in_child([] {
            return i386_syscall(i386_getpid, nullptr, 0) == ::getpid() ? 0 : 1;
        })) != "exited with 0")
        GTEST_SKIP() << "this kernel runs no i386 system calls";
    json rule = {{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", ENOTSUP}};
    Filter both = Filter::compile({{"defaultAction", "SCMP_ACT_ALLOW"},
                                   {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}},
                                   {"syscalls", {rule}}});
    EXPECT_EXITS_ZERO(status_after_loading(both, [] {
        long result = i386_syscall(i386_mkdir, probe_dir, 0700);
        return result == -ENOTSUP ? 0 : 1;
    }));
    // Under an allow-list, a call newer than the profile gets ENOSYS on the
    // other architecture too, and an unlisted one the default errno.
    Filter allow_list = Filter::compile(
        {{"defaultAction", "SCMP_ACT_ERRNO"},
         {"defaultErrnoRet", ENOTSUP},
         {"architectures", {"SCMP_ARCH_X86"}},
         {"syscalls",
          {{{"names", {"write", "exit", "exit_group", "getpid"}}, {"action", "SCMP_ACT_ALLOW"}}}}});
    EXPECT_EXITS_ZERO(status_after_loading(allow_list, [] {
        int failures = i386_syscall(i386_getpid, nullptr, 0) == ::getpid() ? 0 : 1;
        failures += i386_syscall(i386_mkdir, probe_dir, 0700) == -ENOTSUP ? 0 : 2;
        failures += i386_syscall(1000, nullptr, 0) == -ENOSYS ? 0 : 4;
        return failures;
    }));
    // An architecture the profile does not list is killed outright.
    Filter native_only = Filter::compile(allow_all_but({rule}));
    EXPECT_EQ(describe_status(status_after_loading(native_only,
                                                   [] {
                                                       i386_syscall(i386_getpid, nullptr, 0);
                                                       return 0;
                                                   })),
              describe_status(SIGSYS));
#else
    GTEST_SKIP() << "x86-64 only";
#endif
}

TEST(SeccompLoad, X32CallsAreTheirOwnArchitecture) {
#if defined(__x86_64__)
    // The filter sees x32 numbers (bit 30 set) before the kernel decides
    // whether it runs x32 at all.
    constexpr long x32_bit = 0x40000000;
    Filter with_x32 = Filter::compile(
        {{"defaultAction", "SCMP_ACT_ERRNO"},
         {"defaultErrnoRet", ENOTSUP},
         {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X32"}},
         {"syscalls",
          {{{"names", {"write", "exit", "exit_group"}}, {"action", "SCMP_ACT_ALLOW"}}}}});
    EXPECT_EXITS_ZERO(status_after_loading(with_x32, [] {
        int failures = expect_errno(::syscall(x32_bit | SYS_getpid), ENOTSUP, "x32 getpid");
        failures += expect_errno(::syscall(x32_bit | 1000), ENOSYS, "x32 1000");
        failures += expect_errno(::syscall(SYS_getpid), ENOTSUP, "getpid");
        failures += expect_errno(::syscall(1000), ENOSYS, "1000");
        return failures;
    }));
    Filter without_x32 = Filter::compile(
        {{"defaultAction", "SCMP_ACT_ERRNO"},
         {"syscalls",
          {{{"names", {"write", "exit", "exit_group"}}, {"action", "SCMP_ACT_ALLOW"}}}}});
    EXPECT_EQ(describe_status(status_after_loading(without_x32,
                                                   [] {
                                                       ::syscall(x32_bit | SYS_getpid);
                                                       return 0;
                                                   })),
              describe_status(SIGSYS));
#else
    GTEST_SKIP() << "x86-64 only";
#endif
}

} // namespace
