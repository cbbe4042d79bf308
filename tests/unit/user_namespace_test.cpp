// berth::rootless(): what a rootless berth command and the runtime under
// it decide by. Checked from this process and from a child in a user
// namespace of its own (as berth-pause makes one).
#include "berth/base/user_namespace.h"

#include <gtest/gtest.h>

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

TEST(UserNamespace, TheHostsIsInitialAndANewOneIsRootless) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root in the host's user namespace";
    EXPECT_TRUE(berth::in_initial_user_namespace());
    EXPECT_FALSE(berth::rootless());
    EXPECT_TRUE(berth::group_is_mapped(5));
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        if (::unshare(CLONE_NEWUSER) < 0) ::_exit(2);
        // No map written: nothing is mapped, and the process is not root there.
        bool ok =
            !berth::in_initial_user_namespace() && berth::rootless() && !berth::group_is_mapped(5);
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 2) GTEST_SKIP() << "user namespaces are off here";
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

} // namespace
