// New system calls should fail with ENOSYS, not with the profile's default
// errno. Programs probe a new call and fall back to an old one only on ENOSYS
// (glibc's clone3 → clone, fchmodat2 → fchmodat, statx → stat...); a profile
// written before the call existed cannot list it, and EPERM from it would be
// taken as a real refusal. So, as runc does, a few instructions in front of
// the filter answer ENOSYS for any number above the highest one the profile
// mentions on that architecture.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <vector>

namespace berth::runtime::seccomp {

struct ArchitectureLimit {
    std::uint32_t architecture;    // SCMP_ARCH_* token
    std::uint32_t highest_syscall; // highest number the profile names there
};

// The instructions to put before libseccomp's program; they fall through to
// it for every number up to the limit. Empty when no limit applies.
std::vector<sock_filter> enosys_stub(const std::vector<ArchitectureLimit>& limits);

} // namespace berth::runtime::seccomp
