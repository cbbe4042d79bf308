// A Profile turned into the classic BPF program seccomp(2) takes, by way of
// libseccomp (which knows every architecture's syscall table and how to lay
// out the comparisons), then exported so that loading needs libseccomp no more.
#pragma once

#include "profile.h"

#include <linux/filter.h>

#include <string>
#include <vector>

namespace berth::runtime::seccomp {

struct BpfProgram {
    std::vector<sock_filter> instructions;
    // Names no architecture's table knows, skipped as runc skips them: a
    // profile written for a newer kernel still works on this one.
    std::vector<std::string> skipped_syscalls;
};

// Throws berth::Error naming the rule libseccomp refused.
BpfProgram build_bpf_program(const Profile& profile);

} // namespace berth::runtime::seccomp
