#include "enosys_stub.h"

#include <seccomp.h>

#include <cerrno>
#include <cstddef>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <optional>

namespace berth::runtime::seccomp {

namespace {

// x32 shares x86_64's audit architecture; its numbers carry this bit.
constexpr std::uint32_t x32_syscall_bit = 0x40000000;
constexpr std::uint32_t return_enosys = SECCOMP_RET_ERRNO | ENOSYS;

constexpr sock_filter load_word(std::uint32_t offset) {
    return BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset);
}
constexpr sock_filter jump_if(std::uint16_t test, std::uint32_t value, std::uint8_t if_true,
                              std::uint8_t if_false) {
    return BPF_JUMP(BPF_JMP | test | BPF_K, value, if_true, if_false);
}
constexpr sock_filter ret(std::uint32_t value) {
    return BPF_STMT(BPF_RET | BPF_K, value);
}
constexpr sock_filter jump_placeholder() {
    return BPF_STMT(BPF_JMP | BPF_JA, 0);
}

// One architecture's check: the limits of both x86_64 ABIs when it is x86_64.
struct Section {
    std::uint32_t audit_architecture;
    std::optional<std::uint32_t> limit;     // every ABI but x32
    std::optional<std::uint32_t> x32_limit; // x32, numbers with the bit set
};

std::vector<Section> sections_for(const std::vector<ArchitectureLimit>& limits) {
    std::vector<Section> sections;
    for (const auto& entry : limits) {
        // s390 multiplexes calls with high numbers through number 0, which an
        // upper bound cannot see; it keeps libseccomp's behaviour alone.
        if (entry.architecture == SCMP_ARCH_S390 || entry.architecture == SCMP_ARCH_S390X) continue;
        bool x32 = entry.architecture == SCMP_ARCH_X32;
        // Every other SCMP_ARCH_* token is the kernel's AUDIT_ARCH_* value.
        std::uint32_t audit = x32 ? AUDIT_ARCH_X86_64 : entry.architecture;
        Section* section = nullptr;
        for (auto& existing : sections)
            if (existing.audit_architecture == audit) section = &existing;
        if (!section) section = &sections.emplace_back(Section{audit, {}, {}});
        (x32 ? section->x32_limit : section->limit) = entry.highest_syscall;
    }
    return sections;
}

// The body run once the architecture matched: "number above the limit →
// ENOSYS", ending in a jump (patched later) to the end of the stub.
std::vector<sock_filter> section_body(const Section& section) {
    std::vector<sock_filter> body{load_word(offsetof(seccomp_data, nr))};
    bool x86_64 = section.audit_architecture == AUDIT_ARCH_X86_64;
    if (x86_64 && section.limit && section.x32_limit) {
        body.push_back(jump_if(BPF_JSET, x32_syscall_bit, 1, 0));
        body.push_back(jump_if(BPF_JGT, *section.limit, 1, 2));
        body.push_back(jump_if(BPF_JGT, *section.x32_limit, 0, 1));
    } else if (x86_64 && section.limit) {
        // x32 calls in a filter without x32 go on to libseccomp, which
        // treats them as a foreign architecture.
        body.push_back(jump_if(BPF_JSET, x32_syscall_bit, 2, 0));
        body.push_back(jump_if(BPF_JGT, *section.limit, 0, 1));
    } else if (x86_64) {
        body.push_back(jump_if(BPF_JSET, x32_syscall_bit, 0, 2));
        body.push_back(jump_if(BPF_JGT, *section.x32_limit, 0, 1));
    } else {
        body.push_back(jump_if(BPF_JGT, *section.limit, 0, 1));
    }
    body.push_back(ret(return_enosys));
    body.push_back(jump_placeholder());
    return body;
}

} // namespace

std::vector<sock_filter> enosys_stub(const std::vector<ArchitectureLimit>& limits) {
    std::vector<Section> sections = sections_for(limits);
    if (sections.empty()) return {};

    std::vector<sock_filter> stub{load_word(offsetof(seccomp_data, arch))};
    std::vector<std::size_t> jumps_to_end;
    for (const auto& section : sections) {
        std::vector<sock_filter> body = section_body(section);
        stub.push_back(jump_if(BPF_JEQ, section.audit_architecture, 0,
                               static_cast<std::uint8_t>(body.size())));
        stub.insert(stub.end(), body.begin(), body.end());
        jumps_to_end.push_back(stub.size() - 1);
    }
    // The end reloads the architecture, so that libseccomp's program, which
    // follows, never depends on what the stub left in the accumulator.
    std::size_t end = stub.size();
    stub.push_back(load_word(offsetof(seccomp_data, arch)));
    for (std::size_t at : jumps_to_end)
        stub[at].k = static_cast<std::uint32_t>(end - at - 1);
    return stub;
}

} // namespace berth::runtime::seccomp
