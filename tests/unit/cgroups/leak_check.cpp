// After every test of this process: no berth-test-<pid> cgroup may be left
// in any of the host's hierarchies. Leftovers fail the run and are removed.
#include "real_cgroups.h"

#include <gtest/gtest.h>

namespace {

class NoLeakedCgroups : public ::testing::Environment {
  public:
    void TearDown() override {
        for (const auto& leftover : cgroups_test::existing_test_parents())
            ADD_FAILURE() << "cgroup left behind: " << leftover;
        cgroups_test::remove_test_parents();
    }
};

[[maybe_unused]] ::testing::Environment* const no_leaked_cgroups =
    ::testing::AddGlobalTestEnvironment(new NoLeakedCgroups);

} // namespace
