#include "bpf_program.h"

#include "berth/base/error.h"
#include "berth/base/log.h"
#include "berth/base/unique_fd.h"
#include "enosys_stub.h"

#include <seccomp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <sys/mman.h>
#include <sys/stat.h>

namespace berth::runtime::seccomp {

namespace {

struct ContextRelease {
    void operator()(scmp_filter_ctx context) const { seccomp_release(context); }
};
using Context = std::unique_ptr<void, ContextRelease>;

// libseccomp reports failures as negative errno values.
void check(int result, const std::string& what) {
    if (result < 0) throw_errno(what, -result);
}

// libseccomp lays the rules out as a binary search over syscall numbers when
// asked, which makes every syscall of the container cheaper to check once the
// list is long. Not for short lists: libseccomp up to 2.5.4 misbehaves with the
// tree and no rules, and a linear list of a few is just as fast.
constexpr std::size_t rules_worth_a_tree = 32;

void add_rule(scmp_filter_ctx context, const SyscallRule& rule, int number,
              const std::string& name) {
    std::vector<scmp_arg_cmp> conditions;
    std::array<int, 6> per_index{};
    for (const auto& arg : rule.args) {
        conditions.push_back({arg.index, arg.op, arg.value, arg.value_two});
        ++per_index[arg.index];
    }
    std::string what = rule.field + ": adding the rule for \"" + name + "\"";
    // One rule ANDs its conditions, but libseccomp takes one condition per
    // argument. Like runc (whose behaviour profiles are written against), a
    // rule comparing one argument twice becomes a rule per condition, which
    // then match as alternatives.
    if (std::any_of(per_index.begin(), per_index.end(), [](int n) { return n > 1; })) {
        for (const auto& condition : conditions)
            check(seccomp_rule_add_array(context, rule.action, number, 1, &condition), what);
        return;
    }
    check(seccomp_rule_add_array(context, rule.action, number,
                                 static_cast<unsigned int>(conditions.size()), conditions.data()),
          what);
}

// The highest syscall number the profile names on each architecture of the
// filter, for the ENOSYS stub.
std::vector<ArchitectureLimit> highest_syscalls(const Profile& profile,
                                                const std::vector<std::uint32_t>& architectures) {
    std::vector<ArchitectureLimit> limits;
    for (std::uint32_t architecture : architectures) {
        int highest = -1;
        for (const auto& rule : profile.syscalls)
            for (const auto& name : rule.names)
                highest = std::max(
                    highest, seccomp_syscall_resolve_name_arch(architecture, name.c_str()));
        // Negative numbers are libseccomp's stand-ins for calls the
        // architecture does not have.
        if (highest >= 0) limits.push_back({architecture, static_cast<std::uint32_t>(highest)});
    }
    return limits;
}

std::vector<sock_filter> export_program(scmp_filter_ctx context) {
    // libseccomp 2.5 exports only to an fd; a memfd takes any size without a
    // reader on the other end.
    UniqueFd memory(::memfd_create("berth-seccomp-bpf", MFD_CLOEXEC));
    if (!memory) throw_errno("creating a memfd for the seccomp program");
    check(seccomp_export_bpf(context, memory.get()), "exporting the seccomp program");
    struct stat status;
    if (::fstat(memory.get(), &status) < 0) throw_errno("reading the seccomp program's size");
    std::size_t size = static_cast<std::size_t>(status.st_size);
    if (size == 0 || size % sizeof(sock_filter) != 0)
        fail("libseccomp exported a seccomp program of " + std::to_string(size) +
             " bytes, not a whole number of instructions");
    std::vector<sock_filter> program(size / sizeof(sock_filter));
    ssize_t got = ::pread(memory.get(), program.data(), size, 0);
    if (got < 0) throw_errno("reading the seccomp program back");
    if (static_cast<std::size_t>(got) != size) fail("reading the seccomp program back: short read");
    return program;
}

} // namespace

BpfProgram build_bpf_program(const Profile& profile) {
    Context context(seccomp_init(profile.default_action));
    if (!context)
        fail("linux.seccomp.defaultAction: libseccomp refused " +
             action_name(profile.default_action) + " (is it supported by this kernel?)");

    std::vector<std::uint32_t> architectures{seccomp_arch_native()};
    for (std::size_t i = 0; i < profile.architectures.size(); ++i) {
        std::uint32_t architecture = profile.architectures[i];
        if (std::find(architectures.begin(), architectures.end(), architecture) !=
            architectures.end())
            continue;
        check(seccomp_arch_add(context.get(), architecture),
              "linux.seccomp.architectures[" + std::to_string(i) + "]: adding the architecture");
        architectures.push_back(architecture);
    }

    BpfProgram result;
    std::size_t rules_added = 0;
    for (const auto& rule : profile.syscalls) {
        // libseccomp refuses a rule that only restates the default.
        if (rule.action == profile.default_action) continue;
        for (const auto& name : rule.names) {
            int number = seccomp_syscall_resolve_name(name.c_str());
            if (number == __NR_SCMP_ERROR) {
                if (std::find(result.skipped_syscalls.begin(), result.skipped_syscalls.end(),
                              name) == result.skipped_syscalls.end()) {
                    log::debug("seccomp: skipping \"" + name +
                               "\", a system call libseccomp does not know");
                    result.skipped_syscalls.push_back(name);
                }
                continue;
            }
            add_rule(context.get(), rule, number, name);
            ++rules_added;
        }
    }
    if (rules_added > rules_worth_a_tree)
        check(seccomp_attr_set(context.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2),
              "asking libseccomp for a binary tree filter");

    std::vector<sock_filter> program = export_program(context.get());
    // A deny-list lets unknown calls run anyway; only an allow-list needs the stub.
    if (!lets_syscall_run(profile.default_action))
        result.instructions = enosys_stub(highest_syscalls(profile, architectures));
    result.instructions.insert(result.instructions.end(), program.begin(), program.end());
    return result;
}

} // namespace berth::runtime::seccomp
