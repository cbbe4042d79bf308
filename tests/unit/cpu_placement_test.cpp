// start_on_another_cpu (cpu_placement.h): the child runs first on a CPU
// other than its busy parent's, and may still run on every CPU it could.
#include "berth/base/cpu_placement.h"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

struct Start {
    int cpu;
    long when_ns;
};

long now_ns() {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000000000L + now.tv_nsec;
}

TEST(CpuPlacement, TheChildStartsElsewhereAndKeepsItsCpus) {
    cpu_set_t allowed;
    ASSERT_EQ(::sched_getaffinity(0, sizeof allowed, &allowed), 0);
    if (CPU_COUNT(&allowed) < 2) GTEST_SKIP() << "one CPU: nowhere else to start";
    int report[2];
    ASSERT_EQ(::pipe(report), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        Start start{::sched_getcpu(), now_ns()};
        ::_exit(::write(report[1], &start, sizeof start) == sizeof start ? 0 : 1);
    }
    int parent_cpu = ::sched_getcpu();
    berth::start_on_another_cpu(child);
    long placed = now_ns();
    cpu_set_t child_allowed;
    bool read_mask = ::sched_getaffinity(child, sizeof child_allowed, &child_allowed) == 0;
    // Busy, as a parent that goes on working: the child cannot start here.
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
    while (std::chrono::steady_clock::now() < until) {
    }
    Start start{};
    ASSERT_EQ(::read(report[0], &start, sizeof start), (ssize_t)sizeof start);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ::close(report[0]);
    ::close(report[1]);
    // Unless the scheduler ran it first (before our call), on our CPU.
    if (start.when_ns > placed) EXPECT_NE(start.cpu, parent_cpu);
    // Read before it could exit; unless it had already.
    if (read_mask) EXPECT_TRUE(CPU_EQUAL(&child_allowed, &allowed)) << "left pinned";
}

TEST(CpuPlacement, AGoneChildIsNoError) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) ::_exit(0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    berth::start_on_another_cpu(child);
}

} // namespace
