// The side thread (side_thread.h) and clone3_fork: a raw clone must not
// copy the process while that thread may hold a libc lock, so clone3_fork
// waits for it; a fork() child has no thread to wait for.
#include "berth/base/side_thread.h"
#include "berth/base/syscalls.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

std::atomic<bool> job_done{false};

void slow_job(void*) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    // A heap round trip in the thread, as a real job's exit path makes.
    std::free(std::malloc(1000));
    job_done = true;
}

int exit_status_of(pid_t child) {
    int status = 0;
    while (::waitpid(child, &status, 0) < 0) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(SideThread, Clone3ForkWaitsForTheJob) {
    job_done = false;
    ASSERT_TRUE(berth::run_on_side_thread(slow_job, nullptr));
    pid_t child = berth::clone3_fork(0, nullptr, SIGCHLD);
    if (child == 0) {
        // The copy was made after the job ended: it sees the job done and can malloc.
        std::free(std::malloc(100000));
        ::_exit(job_done ? 0 : 1);
    }
    EXPECT_TRUE(job_done) << "clone3_fork returned before the side thread ended";
    EXPECT_EQ(exit_status_of(child), 0);
}

TEST(SideThread, AForkChildHasNoThreadToJoin) {
    job_done = false;
    ASSERT_TRUE(berth::run_on_side_thread(slow_job, nullptr));
    pid_t child = ::fork();
    if (child == 0) {
        auto started = std::chrono::steady_clock::now();
        berth::join_side_thread();
        auto waited = std::chrono::steady_clock::now() - started;
        ::_exit(waited < std::chrono::milliseconds(100) ? 0 : 1);
    }
    EXPECT_EQ(exit_status_of(child), 0) << "the fork child waited for a thread it does not have";
    berth::join_side_thread();
    EXPECT_TRUE(job_done);
}

} // namespace
