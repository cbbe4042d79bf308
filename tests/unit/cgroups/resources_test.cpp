// linux.resources parsing and the writes planned for each cgroup version.
#include "berth/base/error.h"
#include "resource_plan.h"

#include <gtest/gtest.h>

using namespace berth::runtime::cgroups;
using nlohmann::json;

namespace {

std::vector<ControlWrite> v1(const char* text) {
    return plan_v1(parse_resources(json::parse(text)));
}
std::vector<ControlWrite> v2(const char* text) {
    return plan_v2(parse_resources(json::parse(text)));
}

std::vector<std::string> lines(const std::vector<ControlWrite>& writes) {
    std::vector<std::string> out;
    for (const auto& w : writes)
        out.push_back(w.file + "=" + w.value + (w.optional ? "?" : ""));
    return out;
}

std::string parse_error(const char* text) {
    try {
        parse_resources(json::parse(text));
    } catch (const berth::Error& error) {
        return error.what();
    }
    return "";
}

} // namespace

TEST(Resources, WeightConversions) {
    EXPECT_EQ(cpu_weight_from_shares(2), 1u);
    EXPECT_EQ(cpu_weight_from_shares(1024), 39u);
    EXPECT_EQ(cpu_weight_from_shares(262144), 10000u);
    EXPECT_EQ(io_weight_from_blkio_weight(10), 1u);
    EXPECT_EQ(io_weight_from_blkio_weight(1000), 10000u);
}

TEST(Resources, V1MemoryWritesKeepMemswAboveTheLimitThroughout) {
    // Whatever the current values, memsw is lifted first, then the limit set, then memsw.
    EXPECT_EQ(
        lines(v1(R"({"memory": {"limit": 100, "swap": 300}})")),
        (std::vector<std::string>{"memory.memsw.limit_in_bytes=-1", "memory.limit_in_bytes=100",
                                  "memory.memsw.limit_in_bytes=300"}));
    EXPECT_EQ(
        lines(v1(R"({"memory": {"limit": -1}})")),
        (std::vector<std::string>{"memory.memsw.limit_in_bytes=-1?", "memory.limit_in_bytes=-1"}));
    EXPECT_EQ(lines(v1(R"({"memory": {"limit": 100}})")),
              (std::vector<std::string>{"memory.limit_in_bytes=100"}));
}

TEST(Resources, V2MemoryAndCpu) {
    EXPECT_EQ(lines(v2(R"({"memory": {"limit": 100, "swap": 300}})")),
              (std::vector<std::string>{"memory.swap.max=200", "memory.max=100"}));
    EXPECT_EQ(lines(v2(R"({"memory": {"limit": 100, "swap": -1}})")),
              (std::vector<std::string>{"memory.swap.max=max?", "memory.max=100"}));
    EXPECT_EQ(lines(v2(R"({"cpu": {"quota": 20000}})")),
              (std::vector<std::string>{"cpu.max=20000"}));
    EXPECT_EQ(lines(v2(R"({"cpu": {"period": 50000}})")),
              (std::vector<std::string>{"cpu.max=max 50000"}));
    // Zero is "not set" for these, as runc reads the spec.
    EXPECT_TRUE(
        v2(R"({"memory": {"limit": 0}, "cpu": {"shares": 0, "quota": 0}, "pids": {"limit": 0}})")
            .empty());
}

TEST(Resources, V2IoMaxHasOneLinePerDevice) {
    auto writes = v2(R"({"blockIO": {
        "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 10}, {"major": 8, "minor": 16, "rate": 0}],
        "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 20}],
        "weightDevice": [{"major": 8, "minor": 0, "weight": 100, "leafWeight": 50}]}})");
    ASSERT_EQ(writes.size(), 3u);
    EXPECT_EQ(writes[0].file, "io.bfq.weight");
    EXPECT_EQ(writes[0].value, "8:0 100");
    EXPECT_EQ(writes[0].fallback_file, "io.weight");
    EXPECT_EQ(writes[0].fallback_value, "8:0 910");
    EXPECT_EQ(writes[1].value, "8:0 rbps=10 wbps=20");
    EXPECT_EQ(writes[2].value, "8:16 rbps=max");
}

TEST(Resources, V1NetworkRdmaHugepages) {
    EXPECT_EQ(
        lines(
            v1(R"({"network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 5}]},
                           "rdma": {"mlx5_1": {"hcaHandles": 3}},
                           "hugepageLimits": [{"pageSize": "1GB", "limit": 0}]})")),
        (std::vector<std::string>{"hugetlb.1GB.limit_in_bytes=0", "net_cls.classid=1048577",
                                  "net_prio.ifpriomap=eth0 5",
                                  "rdma.max=mlx5_1 hca_handle=3 hca_object=max"}));
}

TEST(Resources, ValidationNamesTheField) {
    struct Case {
        const char* json;
        const char* field;
    } cases[] = {
        {R"({"memory": {"limit": "1G"}})", "linux.resources.memory.limit: expected a whole number"},
        {R"({"memory": {"limit": -2}})", "linux.resources.memory.limit"},
        {R"({"memory": {"limit": 200, "swap": 100}})", "linux.resources.memory.swap"},
        {R"({"memory": {"swappiness": 101}})", "linux.resources.memory.swappiness"},
        {R"({"cpu": {"shares": 1}})", "linux.resources.cpu.shares"},
        {R"({"cpu": {"cpus": "0;rm"}})", "linux.resources.cpu.cpus"},
        {R"({"cpu": {"idle": 2}})", "linux.resources.cpu.idle"},
        {R"({"blockIO": {"weight": 5}})", "linux.resources.blockIO.weight"},
        {R"({"blockIO": {"throttleReadBpsDevice": [{"major": 8, "rate": 1}]}})",
         "linux.resources.blockIO.throttleReadBpsDevice[0].minor: required"},
        {R"({"hugepageLimits": [{"pageSize": "2M", "limit": 1}]})",
         "linux.resources.hugepageLimits[0].pageSize"},
        {R"({"devices": [{"allow": true, "access": "rwx"}]})", "linux.resources.devices[0].access"},
        {R"({"devices": [{"allow": true, "type": "x"}]})", "linux.resources.devices[0].type"},
        {R"({"devices": [{"type": "c"}]})", "linux.resources.devices[0].allow: required"},
        {R"({"network": {"classID": 4294967296}})", "linux.resources.network.classID"},
        {R"({"unified": {"a/b": "1"}})", "linux.resources.unified.a/b"},
        {R"({"memory": []})", "linux.resources.memory: expected an object"},
    };
    for (const auto& c : cases) {
        std::string error = parse_error(c.json);
        EXPECT_NE(error.find(c.field), std::string::npos) << c.json << " → " << error;
    }
    EXPECT_EQ(parse_error(R"({"memory": {"kernel": 1}, "futureField": {"x": 1}})"), "");
}
