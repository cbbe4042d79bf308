// warm_up_moves (cgroups.h): a move that changes nothing, and that makes
// the next real move skip the kernel's grace-period wait.
#include "berth/base/files.h"
#include "berth/base/side_thread.h"
#include "berth/runtime/cgroups.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace {

TEST(MoveWarmup, LeavesThisProcessWhereItWas) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    std::string before = berth::read_file("/proc/self/cgroup");
    berth::runtime::cgroups::warm_up_moves();
    berth::join_side_thread();
    EXPECT_EQ(berth::read_file("/proc/self/cgroup"), before);
    // Once per process: a second call starts nothing.
    berth::runtime::cgroups::warm_up_moves();
    berth::join_side_thread();
    EXPECT_EQ(berth::read_file("/proc/self/cgroup"), before);
}

} // namespace
