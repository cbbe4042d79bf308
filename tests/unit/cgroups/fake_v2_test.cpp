// cgroup v2 logic against a fake tree: what lands in which file.
#include "berth/base/error.h"
#include "berth/runtime/cgroups.h"
#include "berth_test/temp_dir.hpp"
#include "fake_cgroupfs.h"

#include <csignal>
#include <gtest/gtest.h>

using namespace berth::runtime::cgroups;
using cgroups_test::contents;
using cgroups_test::make_cgroup;
using cgroups_test::put;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

class FakeV2 : public ::testing::Test {
  protected:
    void SetUp() override {
        make_cgroup(root, {"cgroup.subtree_control"});
        put(root / "cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
        make_cgroup(root / "berth", {"cgroup.subtree_control", "cgroup.controllers"});
        make_cgroup(leaf, {"cgroup.subtree_control", "cgroup.procs", "cgroup.freeze", "cgroup.kill",
                           "memory.max", "memory.swap.max", "memory.low", "memory.high", "cpu.max",
                           "cpu.weight", "cpu.idle", "cpuset.cpus", "cpuset.mems", "io.weight",
                           "io.max", "pids.max", "hugetlb.2MB.max"});
        put(leaf / "cgroup.events", "populated 0\nfrozen 0\n");
    }

    Cgroup cgroup() const {
        return Cgroup::for_container("", "c1", Host{Mode::v2, root.string(), "0::/\n"});
    }

    berth_test::TempDir temp{"cgroup-v2"};
    fs::path root = temp.path();
    fs::path leaf = root / "berth" / "c1";
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

TEST_F(FakeV2, CreateHandsEveryOfferedControllerDownToTheContainer) {
    Cgroup c = cgroup();
    c.create();
    EXPECT_EQ(contents(root / "cgroup.subtree_control"), "+cpu +cpuset +hugetlb +io +memory +pids");
    EXPECT_EQ(contents(root / "berth" / "cgroup.subtree_control"),
              "+cpu +cpuset +hugetlb +io +memory +pids");
    EXPECT_EQ(contents(leaf / "cgroup.subtree_control"), ""); // the container's own is its business
    c.create();                                               // idempotent
}

TEST_F(FakeV2, ResourcesAreConvertedAsRuncAndCrunDo) {
    Cgroup c = cgroup();
    c.apply_resources(json::parse(R"({
        "memory": {"limit": 268435456, "swap": 536870912, "reservation": 134217728,
                   "kernel": 1000, "swappiness": 10, "disableOOMKiller": true},
        "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0-1", "mems": "0",
                "idle": 1},
        "pids": {"limit": 100},
        "blockIO": {"weight": 500,
                    "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                    "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}]},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 1073741824}]
    })"));
    EXPECT_EQ(contents(leaf / "memory.max"), "268435456");
    EXPECT_EQ(contents(leaf / "memory.swap.max"), "268435456"); // swap is memory+swap in OCI
    EXPECT_EQ(contents(leaf / "memory.low"), "134217728");
    EXPECT_EQ(contents(leaf / "cpu.weight"), "39"); // 1 + (1024 - 2) * 9999 / 262142
    EXPECT_EQ(contents(leaf / "cpu.max"), "50000 100000");
    EXPECT_EQ(contents(leaf / "cpu.idle"), "1");
    EXPECT_EQ(contents(leaf / "cpuset.cpus"), "0-1");
    EXPECT_EQ(contents(leaf / "cpuset.mems"), "0");
    EXPECT_EQ(contents(leaf / "pids.max"), "100");
    EXPECT_EQ(contents(leaf / "io.weight"), "default 4950"); // no BFQ file: scaled to io.weight
    EXPECT_EQ(contents(leaf / "io.max"), "8:0 rbps=1048576 wiops=100");
    EXPECT_EQ(contents(leaf / "hugetlb.2MB.max"), "1073741824");
    // Every file was there, so no controller had to be handed down.
    EXPECT_EQ(contents(root / "cgroup.subtree_control"), "");
}

TEST_F(FakeV2, UnlimitedValuesAreMax) {
    Cgroup c = cgroup();
    c.apply_resources(json::parse(
        R"({"memory": {"limit": -1}, "cpu": {"quota": -1, "period": 250000}, "pids": {"limit": -1}})"));
    EXPECT_EQ(contents(leaf / "memory.max"), "max");
    EXPECT_EQ(contents(leaf / "memory.swap.max"), "max");
    EXPECT_EQ(contents(leaf / "cpu.max"), "max 250000");
    EXPECT_EQ(contents(leaf / "pids.max"), "max");
}

TEST_F(FakeV2, AMissingControllerIsEnabledInEveryAncestor) {
    fs::remove(leaf / "pids.max"); // as the kernel shows it before pids is handed down
    Cgroup c = cgroup();
    std::string error =
        error_of([&] { c.apply_resources(json::parse(R"({"pids": {"limit": 5}})")); });
    EXPECT_EQ(contents(root / "cgroup.subtree_control"), "+pids");
    EXPECT_EQ(contents(root / "berth" / "cgroup.subtree_control"), "+pids");
    // A fake kernel grows no file; the error names the field and the file.
    EXPECT_NE(error.find("linux.resources.pids.limit"), std::string::npos) << error;
    EXPECT_NE(error.find("pids.max"), std::string::npos) << error;
}

TEST_F(FakeV2, AControllerTheHostLacksIsAnErrorOnlyWhenALimitNeedsIt) {
    put(root / "cgroup.controllers", "cpu memory pids\n");
    fs::remove(leaf / "hugetlb.2MB.max");
    Cgroup c = cgroup();
    c.apply_resources(json::parse(R"({"memory": {"limit": 1048576}})"));
    std::string error = error_of([&] {
        c.apply_resources(json::parse(R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 1}]})"));
    });
    EXPECT_NE(error.find("linux.resources.hugepageLimits"), std::string::npos) << error;
    EXPECT_NE(error.find("\"hugetlb\""), std::string::npos) << error;
    EXPECT_NE(error.find("cgroup.controllers"), std::string::npos) << error;
}

TEST_F(FakeV2, UnifiedWinsAndStaysInTheDirectory) {
    Cgroup c = cgroup();
    c.apply_resources(json::parse(
        R"({"memory": {"limit": 1048576}, "unified": {"memory.max": "2097152", "memory.high": "1048576"}})"));
    EXPECT_EQ(contents(leaf / "memory.max"), "2097152");
    EXPECT_EQ(contents(leaf / "memory.high"), "1048576");
    std::string error =
        error_of([&] { c.apply_resources(json::parse(R"({"unified": {"../x": "1"}})")); });
    EXPECT_NE(error.find("linux.resources.unified"), std::string::npos) << error;
}

TEST_F(FakeV2, FieldsV2CanNotHonourAreRefusedBeforeAnyWrite) {
    Cgroup c = cgroup();
    std::string error = error_of([&] {
        c.apply_resources(
            json::parse(R"({"pids": {"limit": 7}, "cpu": {"realtimeRuntime": 950000}})"));
    });
    EXPECT_NE(error.find("linux.resources.cpu.realtimeRuntime"), std::string::npos) << error;
    EXPECT_EQ(contents(leaf / "pids.max"), ""); // nothing half applied
    error = error_of([&] { c.apply_resources(json::parse(R"({"network": {"classID": 1}})")); });
    EXPECT_NE(error.find("linux.resources.network"), std::string::npos) << error;
    error = error_of([&] { c.apply_resources(json::parse(R"({"memory": {"swap": 1000}})")); });
    EXPECT_NE(error.find("linux.resources.memory.swap"), std::string::npos) << error;
}

TEST_F(FakeV2, ProcessesFreezingAndKilling) {
    Cgroup c = cgroup();
    c.add_process(1234);
    EXPECT_EQ(contents(leaf / "cgroup.procs"), "1234");
    put(leaf / "cgroup.procs", "5\n7\n");
    make_cgroup(leaf / "inner", {});
    put(leaf / "inner" / "cgroup.procs", "9\n5\n");
    EXPECT_EQ(c.pids(), (std::vector<pid_t>{5, 7, 9}));

    put(leaf / "cgroup.events", "populated 1\nfrozen 1\n"); // the kernel's answer to the write
    c.freeze();
    EXPECT_EQ(contents(leaf / "cgroup.freeze"), "1");
    EXPECT_TRUE(c.frozen());
    put(leaf / "cgroup.events", "populated 1\nfrozen 0\n");
    c.thaw();
    EXPECT_EQ(contents(leaf / "cgroup.freeze"), "0");
    EXPECT_FALSE(c.frozen());

    c.kill_all(SIGKILL);
    EXPECT_EQ(contents(leaf / "cgroup.kill"), "1");
}

TEST_F(FakeV2, StatsHaveRuncsShape) {
    put(leaf / "cpu.stat", "usage_usec 100\nuser_usec 60\nsystem_usec 40\nnr_periods 3\n"
                           "nr_throttled 1\nthrottled_usec 5\n");
    put(leaf / "memory.current", "4096\n");
    put(leaf / "memory.max", "max\n");
    put(leaf / "memory.stat", "anon 2048\nfile 1024\n");
    put(leaf / "memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n");
    put(leaf / "pids.current", "3\n");
    put(leaf / "pids.max", "100\n");
    put(leaf / "io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");
    json stats = cgroup().stats();
    EXPECT_EQ(stats["cpu"]["usage"]["total"], 100000);
    EXPECT_EQ(stats["cpu"]["usage"]["user"], 60000);
    EXPECT_EQ(stats["cpu"]["throttling"]["throttledPeriods"], 1);
    EXPECT_EQ(stats["memory"]["usage"]["usage"], 4096);
    EXPECT_EQ(stats["memory"]["usage"]["limit"], UINT64_MAX);
    EXPECT_EQ(stats["memory"]["usage"]["failcnt"], 2);
    EXPECT_EQ(stats["memory"]["cache"], 1024);
    EXPECT_EQ(stats["memory"]["raw"]["anon"], 2048);
    EXPECT_EQ(stats["pids"]["current"], 3);
    EXPECT_EQ(stats["pids"]["limit"], 100);
    EXPECT_EQ(stats["blkio"]["ioServiceBytesRecursive"][1],
              json::parse(R"({"major": 8, "minor": 0, "op": "Write", "value": 20})"));
    EXPECT_EQ(cgroup().oom_kill_count(), 1u);
}

TEST_F(FakeV2, PlacementSurvivesStateJson) {
    Cgroup c = cgroup();
    Cgroup again = Cgroup::from_json(c.to_json());
    EXPECT_EQ(again.mode(), Mode::v2);
    EXPECT_EQ(again.placements().at("unified").directory, leaf.string());
    berth::UniqueFd fd = again.v2_directory_fd();
    EXPECT_TRUE(fd);
    // A tampered state file can not point kill_all or destroy elsewhere.
    json tampered = json::parse(c.to_json());
    tampered["placements"]["unified"]["directory"] = root.string() + "/../../etc";
    EXPECT_THROW(Cgroup::from_json(tampered.dump()), berth::Error);
    tampered["placements"]["unified"]["directory"] = root.string();
    EXPECT_THROW(Cgroup::from_json(tampered.dump()), berth::Error);
}
