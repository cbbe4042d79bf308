// linux.seccomp as plain data, read and checked field by field. Nothing here
// builds or loads a filter: this is the part a fuzzer chews on.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <seccomp.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace berth::runtime::seccomp {

struct ArgCondition {
    unsigned int index = 0;
    scmp_compare op = SCMP_CMP_EQ;
    // For SCMP_CMP_MASKED_EQ `value` is the mask and `value_two` what the
    // masked argument must equal; other operators use `value` alone.
    std::uint64_t value = 0;
    std::uint64_t value_two = 0;
};

struct SyscallRule {
    std::string field; // "linux.seccomp.syscalls[3]", for errors found later
    std::vector<std::string> names;
    std::uint32_t action = SCMP_ACT_ALLOW; // a SCMP_ACT_* value, errno included
    std::vector<ArgCondition> args;
};

struct Profile {
    std::uint32_t default_action = SCMP_ACT_ALLOW;
    std::vector<std::uint32_t> architectures; // SCMP_ARCH_* tokens, as listed
    std::vector<std::string> architecture_names;
    unsigned int flags = 0; // SECCOMP_FILTER_FLAG_*, as listed
    std::string listener_path;
    std::string listener_metadata;
    std::vector<SyscallRule> syscalls;
    bool uses_notify = false;
};

// Reads linux.seccomp; every error names its field. Throws berth::Error.
Profile parse_profile(const nlohmann::json& seccomp);

// What parse_profile accepts, for `berth-runtime features`.
struct KnownNames {
    std::vector<std::string> actions, operators, architectures;
    std::vector<std::pair<std::string, unsigned int>> flags; // name, SECCOMP_FILTER_FLAG_*
};
KnownNames known_names();

// True for actions that let the syscall run (ALLOW, LOG, and TRACE, which a
// tracer decides): a profile defaulting to one of them is a deny-list.
bool lets_syscall_run(std::uint32_t action);

// "SCMP_ACT_ERRNO(38)" and the like, for messages and tests.
std::string action_name(std::uint32_t action);

} // namespace berth::runtime::seccomp
