// Compiling linux.seccomp: what is refused, with which field named, and what
// is accepted. Nothing here loads a filter.
#include "berth/base/error.h"
#include "berth/runtime/seccomp.h"

#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <nlohmann/json.hpp>

using berth::runtime::seccomp::Filter;
using nlohmann::json;

namespace {

std::string compile_error(const json& seccomp) {
    try {
        Filter::compile(seccomp);
    } catch (const berth::Error& error) {
        return error.what();
    }
    return "(compiled)";
}

json with_rule(const json& rule) {
    return {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", json::array({rule})}};
}

struct RefusedCase {
    const char* name;
    json seccomp;
    std::string message; // the error starts with this
};

class RefusedProfile : public testing::TestWithParam<RefusedCase> {};

TEST_P(RefusedProfile, NamesTheField) {
    std::string error = compile_error(GetParam().seccomp);
    EXPECT_EQ(error.substr(0, GetParam().message.size()), GetParam().message) << error;
}

const json mkdir_errno = {{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}};

INSTANTIATE_TEST_SUITE_P(
    Seccomp, RefusedProfile,
    testing::Values(
        RefusedCase{"NotAnObject", json::array(), "linux.seccomp: expected an object"},
        RefusedCase{"NoDefaultAction", json::object(), "linux.seccomp.defaultAction: required"},
        RefusedCase{"UnknownDefaultAction",
                    {{"defaultAction", "SCMP_ACT_NOPE"}},
                    "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\""},
        RefusedCase{"DefaultActionNotAString",
                    {{"defaultAction", 3}},
                    "linux.seccomp.defaultAction: expected a string"},
        RefusedCase{"DefaultErrnoOnAllow",
                    {{"defaultAction", "SCMP_ACT_ALLOW"}, {"defaultErrnoRet", 1}},
                    "linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW does not return an errno"},
        RefusedCase{"DefaultNotify",
                    {{"defaultAction", "SCMP_ACT_NOTIFY"}, {"listenerPath", "/run/agent"}},
                    "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default"},
        RefusedCase{"UnknownActionInFourthRule",
                    {{"defaultAction", "SCMP_ACT_ALLOW"},
                     {"syscalls",
                      {mkdir_errno,
                       mkdir_errno,
                       mkdir_errno,
                       {{"names", {"read"}}, {"action", "SCMP_ACT_BOGUS"}}}}},
                    "linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_BOGUS\""},
        RefusedCase{"ErrnoOnKill",
                    with_rule({{"names", {"mkdir"}}, {"action", "SCMP_ACT_KILL"}, {"errnoRet", 1}}),
                    "linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_KILL does not return an errno"},
        RefusedCase{
            "ErrnoTooLarge",
            with_rule({{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 4095}}),
            "linux.seccomp.syscalls[0].errnoRet: expected a whole number from 0 to 4094"},
        RefusedCase{
            "ErrnoNegative",
            with_rule({{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", -1}}),
            "linux.seccomp.syscalls[0].errnoRet: expected a whole number"},
        RefusedCase{"UnknownArchitecture",
                    {{"defaultAction", "SCMP_ACT_ALLOW"},
                     {"architectures", {"SCMP_ARCH_X86", "SCMP_ARCH_Z80"}}},
                    "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\""},
        RefusedCase{"LowerCaseArchitecture",
                    {{"defaultAction", "SCMP_ACT_ALLOW"}, {"architectures", {"SCMP_ARCH_x86"}}},
                    "linux.seccomp.architectures[0]: unknown architecture"},
        RefusedCase{"ArchitectureOfTheOtherByteOrder",
                    {{"defaultAction", "SCMP_ACT_ALLOW"},
                     {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_S390X"}}},
                    "linux.seccomp.architectures[1]: SCMP_ARCH_S390X cannot share a filter with "
                    "this machine's architecture"},
        RefusedCase{"UnknownFlag",
                    {{"defaultAction", "SCMP_ACT_ALLOW"}, {"flags", {"SECCOMP_FILTER_FLAG_FAST"}}},
                    "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_FAST\""},
        RefusedCase{"MetadataWithoutListener",
                    {{"defaultAction", "SCMP_ACT_ALLOW"}, {"listenerMetadata", "x"}},
                    "linux.seccomp.listenerMetadata: cannot be set without listenerPath"},
        RefusedCase{"NotifyWithoutListener",
                    with_rule({{"names", {"mkdir"}}, {"action", "SCMP_ACT_NOTIFY"}}),
                    "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY"},
        RefusedCase{
            "NotifyOnWrite",
            {{"defaultAction", "SCMP_ACT_ALLOW"},
             {"listenerPath", "/run/agent"},
             {"syscalls", {{{"names", {"mkdir", "write"}}, {"action", "SCMP_ACT_NOTIFY"}}}}},
            "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for "
            "\"write\""},
        RefusedCase{"NoNames", with_rule({{"action", "SCMP_ACT_ERRNO"}}),
                    "linux.seccomp.syscalls[0].names: required"},
        RefusedCase{"EmptyNames",
                    with_rule({{"names", json::array()}, {"action", "SCMP_ACT_ERRNO"}}),
                    "linux.seccomp.syscalls[0].names: must name at least one system call"},
        RefusedCase{"EmptyName", with_rule({{"names", {"read", ""}}, {"action", "SCMP_ACT_ERRNO"}}),
                    "linux.seccomp.syscalls[0].names[1]: a system call name cannot be empty"},
        RefusedCase{"SyscallsNotAnArray",
                    {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", json::object()}},
                    "linux.seccomp.syscalls: expected an array"},
        RefusedCase{"RuleNotAnObject",
                    {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", {"mkdir"}}},
                    "linux.seccomp.syscalls[0]: expected an object"},
        RefusedCase{"ArgIndexTooLarge",
                    with_rule({{"names", {"mkdir"}},
                               {"action", "SCMP_ACT_ERRNO"},
                               {"args", {{{"index", 6}, {"value", 1}, {"op", "SCMP_CMP_EQ"}}}}}),
                    "linux.seccomp.syscalls[0].args[0].index: expected a whole number from 0 to 5"},
        RefusedCase{"UnknownOperator",
                    with_rule({{"names", {"mkdir"}},
                               {"action", "SCMP_ACT_ERRNO"},
                               {"args",
                                {{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_EQ"}},
                                 {{"index", 1}, {"value", 1}, {"op", "SCMP_CMP_XOR"}}}}}),
                    "linux.seccomp.syscalls[0].args[1].op: unknown operator \"SCMP_CMP_XOR\""},
        RefusedCase{"ValueNotANumber",
                    with_rule({{"names", {"mkdir"}},
                               {"action", "SCMP_ACT_ERRNO"},
                               {"args", {{{"index", 0}, {"value", "1"}, {"op", "SCMP_CMP_EQ"}}}}}),
                    "linux.seccomp.syscalls[0].args[0].value: expected a whole number from 0 to "
                    "18446744073709551615"},
        RefusedCase{"ValueMissing",
                    with_rule({{"names", {"mkdir"}},
                               {"action", "SCMP_ACT_ERRNO"},
                               {"args", {{{"index", 0}, {"op", "SCMP_CMP_EQ"}}}}}),
                    "linux.seccomp.syscalls[0].args[0].value: required"}),
    [](const testing::TestParamInfo<RefusedCase>& info) { return info.param.name; });

TEST(SeccompCompile, RefusesArchitecturesThisLibseccompLacks) {
    std::string error = compile_error(
        {{"defaultAction", "SCMP_ACT_ALLOW"}, {"architectures", {"SCMP_ARCH_LOONGARCH64"}}});
    // libseccomp 2.6 knows it; 2.5 does not, and says so.
    if (error != "(compiled)") {
        EXPECT_NE(error.find("architectures[0]: SCMP_ARCH_LOONGARCH64 is not supported by the "
                             "libseccomp"),
                  std::string::npos)
            << error;
    }
}

TEST(SeccompCompile, SkipsSyscallNamesNoTableKnows) {
    Filter filter = Filter::compile(with_rule(
        {{"names", {"mkdir", "not_a_syscall", "also_not_one"}}, {"action", "SCMP_ACT_ERRNO"}}));
    EXPECT_EQ(filter.skipped_syscalls(),
              (std::vector<std::string>{"not_a_syscall", "also_not_one"}));
}

TEST(SeccompCompile, AcceptsEveryActionOperatorAndArchitecture) {
    json rules = json::array();
    const char* actions[] = {"SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                             "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
                             "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY"};
    const char* syscalls[] = {"mkdir",  "rmdir",  "chdir", "fchdir", "link",
                              "unlink", "rename", "chmod", "chown"};
    for (int i = 0; i < 9; ++i)
        rules.push_back({{"names", {syscalls[i]}}, {"action", actions[i]}});
    rules.push_back({{"names", {"setpriority"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 4094}});
    rules.push_back(
        {{"names", {"getpriority"}}, {"action", "SCMP_ACT_TRACE"}, {"errnoRet", 65535}});
    int index = 0;
    for (const char* op : {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
                           "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"})
        rules.push_back({{"names", {"ioctl"}},
                         {"action", "SCMP_ACT_ERRNO"},
                         {"args",
                          {{{"index", index++ % 6},
                            {"value", UINT64_MAX},
                            {"valueTwo", UINT64_MAX},
                            {"op", op}}}}});
    json seccomp = {
        {"defaultAction", "SCMP_ACT_ERRNO"},
        {"defaultErrnoRet", 38},
        {"architectures",
         {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
          "SCMP_ARCH_ARM", "SCMP_ARCH_RISCV64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_MIPSEL64"}},
        {"flags",
         {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
          "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}},
        {"listenerPath", "/run/agent.sock"},
        {"listenerMetadata", "anything"},
        {"syscalls", rules}};
    Filter filter = Filter::compile(seccomp);
    EXPECT_TRUE(filter.wants_notify());
    EXPECT_EQ(filter.listener_path(), "/run/agent.sock");
    EXPECT_EQ(filter.listener_metadata(), "anything");
    EXPECT_TRUE(filter.skipped_syscalls().empty());
    EXPECT_GT(filter.instruction_count(), 100u);
    // A listener is asked for, and TSYNC then needs ESRCH reporting.
    unsigned int flags = filter.seccomp_flags();
    EXPECT_TRUE(flags & SECCOMP_FILTER_FLAG_NEW_LISTENER);
    EXPECT_TRUE(flags & SECCOMP_FILTER_FLAG_TSYNC);
    EXPECT_TRUE(flags & (1U << 4)); // SECCOMP_FILTER_FLAG_TSYNC_ESRCH
    EXPECT_TRUE(flags & (1U << 5)); // SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
}

TEST(SeccompCompile, DropsWaitKillableWithoutAListener) {
    Filter filter = Filter::compile(
        {{"defaultAction", "SCMP_ACT_ALLOW"},
         {"flags", {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "SECCOMP_FILTER_FLAG_LOG"}}});
    EXPECT_FALSE(filter.wants_notify());
    EXPECT_EQ(filter.seccomp_flags(), static_cast<unsigned int>(SECCOMP_FILTER_FLAG_LOG));
}

TEST(SeccompCompile, RuleRestatingTheDefaultIsFine) {
    // libseccomp refuses such a rule; the profile means nothing wrong by it.
    EXPECT_NO_THROW(Filter::compile(
        {{"defaultAction", "SCMP_ACT_ERRNO"},
         {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}}}}}));
}

TEST(SeccompCompile, TooLongForTheKernelIsACreateTimeError) {
    json rules = json::array();
    for (int i = 0; i < 5000; ++i)
        rules.push_back({{"names", {"ioctl"}},
                         {"action", "SCMP_ACT_ERRNO"},
                         {"args", {{{"index", 1}, {"value", i}, {"op", "SCMP_CMP_EQ"}}}}});
    std::string error = compile_error({{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", rules}});
    EXPECT_NE(error.find("more than the kernel's limit of 4096"), std::string::npos) << error;
}

TEST(SeccompFeatures, DescribesWhatThisBuildAndKernelSupport) {
    json features = berth::runtime::seccomp::features();
    EXPECT_EQ(features["enabled"], true);
    EXPECT_EQ(features["actions"].size(), 9u);
    EXPECT_EQ(features["operators"].size(), 7u);
    EXPECT_NE(std::find(features["archs"].begin(), features["archs"].end(), "SCMP_ARCH_X86_64"),
              features["archs"].end());
    EXPECT_EQ(features["knownFlags"].size(), 4u);
    // Every flag is in any kernel from 5.19 on.
    EXPECT_EQ(features["supportedFlags"], features["knownFlags"]);
}

} // namespace
