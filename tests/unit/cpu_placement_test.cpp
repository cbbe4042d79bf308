// start_on_another_cpu (cpu_placement.h): the child runs first on a CPU
// other than its busy parent's, and may still run on every CPU it could.
#include "berth/base/cpu_placement.h"

#include <gtest/gtest.h>

#include <chrono>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

TEST(CpuPlacement, TheChildStartsElsewhereAndKeepsItsCpus) {
    cpu_set_t allowed;
    ASSERT_EQ(::sched_getaffinity(0, sizeof allowed, &allowed), 0);
    if (CPU_COUNT(&allowed) < 2) GTEST_SKIP() << "one CPU: nowhere else to start";
    int report[2];
    ASSERT_EQ(::pipe(report), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        int first_cpu = ::sched_getcpu();
        ::_exit(::write(report[1], &first_cpu, sizeof first_cpu) == sizeof first_cpu ? 0 : 1);
    }
    int parent_cpu = ::sched_getcpu();
    berth::start_on_another_cpu(child);
    cpu_set_t child_allowed;
    bool read_mask = ::sched_getaffinity(child, sizeof child_allowed, &child_allowed) == 0;
    // Busy, as a parent that goes on working: the child cannot start here.
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
    while (std::chrono::steady_clock::now() < until) {
    }
    int first_cpu = -1;
    ASSERT_EQ(::read(report[0], &first_cpu, sizeof first_cpu), (ssize_t)sizeof first_cpu);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ::close(report[0]);
    ::close(report[1]);
    EXPECT_NE(first_cpu, parent_cpu);
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
