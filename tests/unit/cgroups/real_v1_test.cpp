// The host's real cgroup v1 hierarchies (hybrid on the project's machines):
// limits, joining, freezing, killing and removal, with real processes.
// The container path is relative, so it lands below this process's own
// cgroup in each hierarchy, as a runtime's relative cgroupsPath would.
#include "berth/base/error.h"
#include "berth/runtime/cgroups.h"
#include "fake_cgroupfs.h"
#include "real_cgroups.h"

#include <csignal>
#include <filesystem>
#include <gtest/gtest.h>
#include <memory>
#include <sys/wait.h>
#include <unistd.h>

using namespace berth::runtime::cgroups;
using cgroups_test::contents;
using cgroups_test::SleepingChild;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

class RealV1 : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root";
        host = Host::detect();
        if (host.mode == Mode::v2) GTEST_SKIP() << "this host's cgroups are v2 only";
    }
    void TearDown() override { cgroups_test::remove_test_parents(); }

    std::string dir(const Cgroup& c, const char* hierarchy) {
        return c.placements().at(hierarchy).directory;
    }
    bool has(const Cgroup& c, const char* hierarchy) { return c.placements().count(hierarchy) > 0; }

    Host host;
};

bool killed_by(int status, int signal) {
    return WIFSIGNALED(status) && WTERMSIG(status) == signal;
}

} // namespace

TEST_F(RealV1, LimitsProcessesFreezingKillingAndRemoval) {
    Cgroup c = Cgroup::for_container(cgroups_test::test_parent_name() + "/x", "x", host);
    ASSERT_TRUE(has(c, "memory") && has(c, "pids") && has(c, "freezer"))
        << "the host lacks a memory, pids or freezer hierarchy";
    c.create();
    for (const auto& [hierarchy, placement] : c.placements())
        EXPECT_TRUE(fs::is_directory(placement.directory)) << placement.directory;
    json resources = {{"memory", {{"limit", 64 << 20}}}, {"pids", {{"limit", 32}}}};
    if (fs::exists(dir(c, "memory") + "/memory.memsw.limit_in_bytes"))
        resources["memory"]["swap"] = 128 << 20;
    if (has(c, "cpu")) resources["cpu"] = {{"shares", 512}, {"quota", 20000}, {"period", 100000}};
    if (has(c, "cpuset")) resources["cpu"]["cpus"] = "0";
    c.apply_resources(resources);
    EXPECT_EQ(contents(dir(c, "memory") + "/memory.limit_in_bytes"), "67108864");
    if (resources["memory"].contains("swap")) {
        EXPECT_EQ(contents(dir(c, "memory") + "/memory.memsw.limit_in_bytes"), "134217728");
    }
    EXPECT_EQ(contents(dir(c, "pids") + "/pids.max"), "32");
    if (has(c, "cpu")) {
        EXPECT_EQ(contents(dir(c, "cpu") + "/cpu.shares"), "512");
        EXPECT_EQ(contents(dir(c, "cpu") + "/cpu.cfs_quota_us"), "20000");
    }
    if (has(c, "cpuset")) {
        EXPECT_EQ(contents(dir(c, "cpuset") + "/cpuset.cpus"), "0");
    }

    auto first = std::make_unique<SleepingChild>();
    c.add_process(first->pid()); // cpuset included: create() gave it cpus and mems
    std::string self = contents("/proc/" + std::to_string(first->pid()) + "/cgroup");
    EXPECT_NE(self.find(":memory:"), std::string::npos);
    EXPECT_NE(self.find("/" + cgroups_test::test_parent_name() + "/x\n"), std::string::npos)
        << self;
    EXPECT_EQ(c.pids(), std::vector<pid_t>{first->pid()});
    json stats = c.stats();
    EXPECT_EQ(stats["pids"]["current"], 1);
    EXPECT_EQ(stats["pids"]["limit"], 32);
    EXPECT_EQ(stats["memory"]["usage"]["limit"], 64 << 20);

    c.freeze();
    EXPECT_TRUE(c.frozen());
    EXPECT_EQ(contents(dir(c, "freezer") + "/freezer.state"), "FROZEN");
    c.thaw();
    EXPECT_FALSE(c.frozen());

    c.kill_all(SIGTERM); // freeze, signal each, thaw
    EXPECT_TRUE(killed_by(first->wait(), SIGTERM));
    EXPECT_TRUE(c.pids().empty());
    EXPECT_FALSE(c.frozen());

    SleepingChild second;
    c.add_process(second.pid());
    c.kill_all(SIGKILL); // cgroup.kill in the unified tree on hybrid hosts
    EXPECT_TRUE(killed_by(second.wait(), SIGKILL));

    SleepingChild third;
    c.add_process(third.pid());
    c.destroy(); // kills what is left, then removes
    EXPECT_TRUE(killed_by(third.wait(), SIGKILL));
    for (const auto& [hierarchy, placement] : c.placements())
        EXPECT_FALSE(fs::exists(placement.directory)) << placement.directory;
    c.destroy(); // a second time finds nothing to do
}

TEST_F(RealV1, DeviceRulesReachTheDevicesController) {
    Cgroup c = Cgroup::for_container(cgroups_test::test_parent_name() + "/devices", "d", host);
    if (!has(c, "devices")) GTEST_SKIP() << "no devices hierarchy";
    c.create();
    c.apply_resources(json::parse(R"({"devices": [{"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "r"}]})"));
    EXPECT_EQ(contents(dir(c, "devices") + "/devices.list"), "c 1:3 rwm\nc 1:5 r");
    c.destroy();
    EXPECT_FALSE(fs::exists(dir(c, "devices")));
}

TEST_F(RealV1, KernelRefusalsNameFieldAndFile) {
    Cgroup c = Cgroup::for_container(cgroups_test::test_parent_name() + "/bad", "b", host);
    if (!has(c, "cpuset")) GTEST_SKIP() << "no cpuset hierarchy";
    c.create();
    try {
        c.apply_resources(json::parse(R"({"cpu": {"cpus": "4095"}})"));
        ADD_FAILURE() << "a CPU this machine lacks was accepted";
    } catch (const berth::Error& error) {
        std::string message = error.what();
        EXPECT_NE(message.find("linux.resources.cpu.cpus: writing 4095 to " + dir(c, "cpuset") +
                               "/cpuset.cpus: "),
                  std::string::npos)
            << message;
    }
    c.destroy();
}
