// cgroup v1 (and hybrid) logic against a fake tree of hierarchies.
#include "berth/base/error.h"
#include "berth/runtime/cgroups.h"
#include "berth_test/temp_dir.hpp"
#include "fake_cgroupfs.h"

#include <gtest/gtest.h>

using namespace berth::runtime::cgroups;
using cgroups_test::contents;
using cgroups_test::make_cgroup;
using cgroups_test::put;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

class FakeV1 : public ::testing::Test {
  protected:
    void SetUp() override {
        // cpu and cpuacct share one mount, reached through symlinks as on
        // systemd distributions.
        make_cgroup(root / "cpu,cpuacct" / "berth" / "c1",
                    {"cgroup.procs", "cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us",
                     "cpuacct.usage", "cpuacct.stat", "cpu.stat"});
        fs::create_directory_symlink("cpu,cpuacct", root / "cpu");
        fs::create_directory_symlink("cpu,cpuacct", root / "cpuacct");
        make_cgroup(dir("memory"),
                    {"cgroup.procs", "memory.limit_in_bytes", "memory.memsw.limit_in_bytes",
                     "memory.soft_limit_in_bytes", "memory.swappiness", "memory.oom_control",
                     "memory.use_hierarchy"});
        make_cgroup(dir("pids"), {"cgroup.procs", "pids.max"});
        make_cgroup(dir("freezer"), {"cgroup.procs", "freezer.state"});
        make_cgroup(dir("devices"), {"cgroup.procs", "devices.allow", "devices.deny"});
        make_cgroup(dir("blkio"),
                    {"cgroup.procs", "blkio.bfq.weight", "blkio.throttle.read_bps_device"});
        make_cgroup(dir("systemd"), {"cgroup.procs"});
        // A new cpuset cgroup has empty cpus and mems; the root's are set.
        make_cgroup(dir("cpuset"), {"cgroup.procs", "cpuset.cpus", "cpuset.mems"});
        put(root / "cpuset" / "berth" / "cpuset.cpus", "");
        put(root / "cpuset" / "berth" / "cpuset.mems", "");
        put(root / "cpuset" / "cpuset.cpus", "0-3\n");
        put(root / "cpuset" / "cpuset.mems", "0\n");
    }

    fs::path dir(const std::string& hierarchy) const { return root / hierarchy / "berth" / "c1"; }

    Cgroup cgroup(Mode mode = Mode::v1) const {
        return Cgroup::for_container("/berth/c1", "c1", Host{mode, root.string(), ""});
    }

    berth_test::TempDir temp{"cgroup-v1"};
    fs::path root = temp.path();
};

std::string error_of(const std::function<void()>& body) {
    try {
        body();
    } catch (const berth::Error& error) {
        return error.what();
    }
    return "";
}

} // namespace

TEST_F(FakeV1, EveryMountedHierarchyIsUsedAndSharedMountsOnce) {
    Cgroup c = cgroup();
    const auto& placements = c.placements();
    EXPECT_EQ(placements.at("cpu").directory, (root / "cpu,cpuacct" / "berth" / "c1").string());
    EXPECT_EQ(placements.at("cpuacct").directory, placements.at("cpu").directory);
    EXPECT_EQ(placements.at("systemd").directory, dir("systemd").string());
    EXPECT_EQ(placements.count("unified"), 0u);
    EXPECT_EQ(placements.count("hugetlb"), 0u);

    fs::create_directories(root / "unified");
    Cgroup hybrid = cgroup(Mode::hybrid);
    EXPECT_EQ(hybrid.placements().at("unified").directory, dir("unified").string());
}

TEST_F(FakeV1, CreateGivesNewCpusetLevelsTheirParentsCpusAndMems) {
    cgroup().create();
    EXPECT_EQ(contents(root / "cpuset" / "berth" / "cpuset.cpus"), "0-3");
    EXPECT_EQ(contents(root / "cpuset" / "berth" / "cpuset.mems"), "0");
    EXPECT_EQ(contents(dir("cpuset") / "cpuset.cpus"), "0-3");
    EXPECT_EQ(contents(dir("cpuset") / "cpuset.mems"), "0");
}

TEST_F(FakeV1, ResourcesGoToTheirHierarchies) {
    Cgroup c = cgroup();
    c.apply_resources(json::parse(R"({
        "memory": {"limit": 268435456, "swap": 536870912, "reservation": 1048576,
                   "kernel": 1, "swappiness": 10, "disableOOMKiller": true, "useHierarchy": true},
        "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "1"},
        "pids": {"limit": -1},
        "blockIO": {"weight": 500,
                    "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}]},
        "devices": [{"allow": false, "access": "rwm"},
                    {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}]
    })"));
    EXPECT_EQ(contents(dir("memory") / "memory.limit_in_bytes"), "268435456");
    EXPECT_EQ(contents(dir("memory") / "memory.memsw.limit_in_bytes"), "536870912");
    EXPECT_EQ(contents(dir("memory") / "memory.soft_limit_in_bytes"), "1048576");
    EXPECT_EQ(contents(dir("memory") / "memory.swappiness"), "10");
    EXPECT_EQ(contents(dir("memory") / "memory.oom_control"), "1");
    EXPECT_EQ(contents(dir("memory") / "memory.use_hierarchy"), "1");
    EXPECT_EQ(contents(dir("cpu") / "cpu.shares"), "1024");
    EXPECT_EQ(contents(dir("cpu") / "cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(contents(dir("cpu") / "cpu.cfs_period_us"), "100000");
    EXPECT_EQ(contents(dir("cpuset") / "cpuset.cpus"), "1");
    EXPECT_EQ(contents(dir("pids") / "pids.max"), "max");
    EXPECT_EQ(contents(dir("blkio") / "blkio.bfq.weight"), "500"); // no blkio.weight here
    EXPECT_EQ(contents(dir("blkio") / "blkio.throttle.read_bps_device"), "8:0 1048576");
    EXPECT_EQ(contents(dir("devices") / "devices.deny"), "a *:* rwm");
    EXPECT_EQ(contents(dir("devices") / "devices.allow"), "c 1:3 rwm");
}

TEST_F(FakeV1, ErrorsNameTheFieldAndTheFile) {
    Cgroup c = cgroup();
    std::string error =
        error_of([&] { c.apply_resources(json::parse(R"({"unified": {"memory.high": "1"}})")); });
    EXPECT_NE(error.find("linux.resources.unified"), std::string::npos) << error;
    error = error_of([&] {
        c.apply_resources(json::parse(R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 1}]})"));
    });
    EXPECT_NE(error.find("no cgroup v1 \"hugetlb\""), std::string::npos) << error;
    fs::remove(dir("memory") / "memory.swappiness");
    error = error_of([&] { c.apply_resources(json::parse(R"({"memory": {"swappiness": 1}})")); });
    EXPECT_NE(error.find("linux.resources.memory.swappiness"), std::string::npos) << error;
    EXPECT_NE(error.find(dir("memory").string()), std::string::npos) << error;
    // A knob that is a directory stands in for a write the kernel refuses.
    fs::remove(dir("pids") / "pids.max");
    fs::create_directory(dir("pids") / "pids.max");
    error = error_of([&] { c.apply_resources(json::parse(R"({"pids": {"limit": 3}})")); });
    EXPECT_NE(error.find("linux.resources.pids.limit: writing 3 to " + dir("pids").string() +
                         "/pids.max"),
              std::string::npos)
        << error;
}

TEST_F(FakeV1, ProcessesJoinEveryHierarchyOnce) {
    Cgroup c = cgroup();
    c.add_process(4321);
    for (const char* hierarchy :
         {"memory", "cpu,cpuacct", "pids", "freezer", "devices", "blkio", "systemd", "cpuset"})
        EXPECT_EQ(contents(root / hierarchy / "berth" / "c1" / "cgroup.procs"), "4321")
            << hierarchy;
}

TEST_F(FakeV1, FreezerStates) {
    Cgroup c = cgroup();
    c.freeze(); // a fake file reads back what was written: FROZEN at once
    EXPECT_EQ(contents(dir("freezer") / "freezer.state"), "FROZEN");
    EXPECT_TRUE(c.frozen());
    c.thaw();
    EXPECT_EQ(contents(dir("freezer") / "freezer.state"), "THAWED");
    EXPECT_FALSE(c.frozen());
}

TEST_F(FakeV1, StatsAndOomKills) {
    put(dir("memory") / "memory.usage_in_bytes", "8192\n");
    put(dir("memory") / "memory.limit_in_bytes", "9223372036854771712\n");
    put(dir("memory") / "memory.stat", "cache 4096\nrss 4096\n");
    put(dir("memory") / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
    put(dir("cpu") / "cpuacct.usage", "123456\n");
    put(dir("cpu") / "cpu.stat", "nr_periods 4\nnr_throttled 2\nthrottled_time 99\n");
    put(dir("pids") / "pids.current", "2\n");
    put(dir("pids") / "pids.max", "max\n");
    json stats = cgroup().stats();
    EXPECT_EQ(stats["memory"]["usage"]["usage"], 8192);
    EXPECT_EQ(stats["memory"]["cache"], 4096);
    EXPECT_EQ(stats["memory"]["raw"]["rss"], 4096);
    EXPECT_EQ(stats["cpu"]["usage"]["total"], 123456);
    EXPECT_EQ(stats["cpu"]["throttling"]["throttledTime"], 99);
    EXPECT_EQ(stats["pids"]["current"], 2);
    EXPECT_EQ(stats["pids"]["limit"], 0); // runc's way of saying "max"
    EXPECT_EQ(cgroup().oom_kill_count(), 3u);
}
