// Device rules: v1 lines, the v1-equivalent policy, and the eBPF program for v2.
#include "device_bpf.h"
#include "device_rules.h"

#include <cerrno>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

using namespace berth::runtime::cgroups;
using nlohmann::json;

namespace {

std::vector<DeviceRule> rules(const char* text) {
    json resources = json::parse(text);
    return parse_device_rules(Field(resources, "linux.resources"));
}

constexpr unsigned rwm = access_read | access_write | access_mknod;

} // namespace

TEST(DeviceRules, V1Lines) {
    auto parsed = rules(R"({"devices": [{"allow": false},
        {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"},
        {"allow": true, "type": "b", "major": 8, "access": "m"}]})");
    ASSERT_EQ(parsed.size(), 3u);
    EXPECT_EQ(v1_device_line(parsed[0]), "a *:* rwm");
    EXPECT_EQ(v1_device_line(parsed[1]), "c 1:3 rw");
    EXPECT_EQ(v1_device_line(parsed[2]), "b 8:* m");
}

TEST(DeviceRules, PolicyFollowsV1sKernelRules) {
    // A new cgroup allows everything.
    DevicePolicy none = device_policy({});
    EXPECT_TRUE(none.allow_by_default);
    EXPECT_TRUE(none.exceptions.empty());

    // Deny all, then allow two devices: the usual container list.
    DevicePolicy usual = device_policy(rules(R"({"devices": [{"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "r"},
        {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "w"}]})"));
    EXPECT_FALSE(usual.allow_by_default);
    ASSERT_EQ(usual.exceptions.size(), 2u); // the two 1:5 rules merge
    EXPECT_EQ(usual.exceptions[1].access, access_read | access_write);

    // A deny agreeing with the default takes access back from an exception.
    DevicePolicy taken = device_policy(rules(R"({"devices": [{"allow": false},
        {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "w"}]})"));
    ASSERT_EQ(taken.exceptions.size(), 1u);
    EXPECT_EQ(taken.exceptions[0].access, access_read | access_mknod);

    // An "a" rule resets whatever came before.
    DevicePolicy reset = device_policy(rules(R"({"devices": [{"allow": false},
        {"allow": true, "type": "c", "major": 1, "minor": 3}, {"allow": true, "type": "a"}]})"));
    EXPECT_TRUE(reset.allow_by_default);
    EXPECT_TRUE(reset.exceptions.empty());

    // Allow all but one.
    DevicePolicy blocked = device_policy(rules(R"({"devices": [
        {"allow": false, "type": "b", "major": 8, "minor": 0, "access": "w"}]})"));
    EXPECT_TRUE(blocked.allow_by_default);
    ASSERT_EQ(blocked.exceptions.size(), 1u);
    EXPECT_EQ(blocked.exceptions[0].major, 8);
}

TEST(DeviceRules, ProgramEndsWithTheDefault) {
    DevicePolicy policy{false, {{'c', 1, 3, rwm}, {'b', -1, -1, access_read}}};
    auto program = device_program(policy);
    ASSERT_GE(program.size(), 8u);
    EXPECT_EQ(program.back().code, BPF_JMP | BPF_EXIT);
    EXPECT_EQ(program[program.size() - 2].imm, 0); // deny by default
    // Every jump lands inside the program.
    for (std::size_t i = 0; i < program.size(); ++i)
        if (BPF_CLASS(program[i].code) == BPF_JMP32) {
            EXPECT_LT(i + 1 + static_cast<std::size_t>(program[i].off), program.size()) << i;
        }
}

TEST(DeviceRules, KernelVerifierAcceptsTheProgram) {
    DevicePolicy policy{
        false,
        {{'c', 1, 3, rwm}, {'c', 4294967295LL, -1, access_read}, {'b', 8, -1, access_mknod}}};
    auto program = device_program(policy);
    static const char license[] = "GPL";
    bpf_attr attr{};
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = reinterpret_cast<std::uint64_t>(program.data());
    attr.insn_cnt = static_cast<std::uint32_t>(program.size());
    attr.license = reinterpret_cast<std::uint64_t>(license);
    std::string log(65536, '\0');
    attr.log_level = 1;
    attr.log_buf = reinterpret_cast<std::uint64_t>(log.data());
    attr.log_size = static_cast<std::uint32_t>(log.size());
    long fd = ::syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
    if (fd < 0 && errno == EPERM) GTEST_SKIP() << "loading eBPF programs needs CAP_BPF";
    EXPECT_GE(fd, 0) << std::strerror(errno) << "\n" << log.c_str();
    if (fd >= 0) ::close(static_cast<int>(fd));
}
