#include "bpf_program.h"

#include "berth/base/error.h"
#include "berth/base/log.h"
#include "berth/base/unique_fd.h"
#include "enosys_stub.h"

#include <seccomp.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
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
// tree and no rules, and a linear list of a few is just as fast. Nor for other
// architectures than the machine's (32-bit programs on a 64-bit host): their
// calls are rare, and the tree costs about a millisecond more to build.
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
                highest = std::max(highest,
                                   seccomp_syscall_resolve_name_arch(architecture, name.c_str()));
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

// The machine's own architecture first (its calls are checked soonest), then
// the listed ones. libseccomp refuses to mix byte orders in one filter; so do we.
std::vector<std::uint32_t> filter_architectures(const Profile& profile) {
    Context probe(seccomp_init(SCMP_ACT_ALLOW));
    if (!probe) fail("libseccomp could not create a filter");
    std::vector<std::uint32_t> architectures{seccomp_arch_native()};
    for (std::size_t i = 0; i < profile.architectures.size(); ++i) {
        std::uint32_t architecture = profile.architectures[i];
        if (std::find(architectures.begin(), architectures.end(), architecture) !=
            architectures.end())
            continue;
        std::string field = "linux.seccomp.architectures[" + std::to_string(i) + "]";
        int result = seccomp_arch_add(probe.get(), architecture);
        if (result == -EDOM)
            fail(field + ": " + profile.architecture_names[i] +
                 " cannot share a filter with this machine's architecture (their byte orders "
                 "differ)");
        check(result, field + ": adding the architecture");
        architectures.push_back(architecture);
    }
    return architectures;
}

struct ResolvedRule {
    const SyscallRule* rule;
    const std::string* name;
    int number; // in the machine's numbering; libseccomp translates it per architecture
};

std::vector<ResolvedRule> resolve_rules(const Profile& profile, std::vector<std::string>& skipped) {
    std::vector<ResolvedRule> resolved;
    for (const auto& rule : profile.syscalls) {
        // libseccomp refuses a rule that only restates the default.
        if (rule.action == profile.default_action) continue;
        for (const auto& name : rule.names) {
            int number = seccomp_syscall_resolve_name(name.c_str());
            if (number != __NR_SCMP_ERROR) {
                resolved.push_back({&rule, &name, number});
            } else if (std::find(skipped.begin(), skipped.end(), name) == skipped.end()) {
                log::debug("seccomp: skipping \"" + name +
                           "\", a system call libseccomp does not know");
                skipped.push_back(name);
            }
        }
    }
    return resolved;
}

// A TRACE value no rule returns, to mark where libseccomp would give up on a
// call of another architecture.
std::uint32_t unused_action(const Profile& profile) {
    for (std::uint32_t data = 0xffff;; --data) {
        std::uint32_t candidate = SCMP_ACT_TRACE(data);
        bool used = candidate == profile.default_action;
        for (const auto& rule : profile.syscalls)
            used = used || rule.action == candidate;
        if (!used) return candidate;
    }
}

// One architecture's program. libseccomp's time grows faster than the size of
// a filter, so a program per architecture, chained, is several times quicker
// to build than one filter holding them all. `next` marks calls of any other
// architecture, which chain_to_next sends on to the next program.
std::vector<sock_filter> program_for(const Profile& profile, std::uint32_t architecture,
                                     const std::vector<ResolvedRule>& rules,
                                     std::optional<std::uint32_t> next) {
    Context context(seccomp_init(profile.default_action));
    if (!context)
        fail("linux.seccomp.defaultAction: libseccomp refused " +
             action_name(profile.default_action) + " (is it supported by this kernel?)");
    if (architecture != seccomp_arch_native()) {
        check(seccomp_arch_add(context.get(), architecture), "adding an architecture");
        check(seccomp_arch_remove(context.get(), SCMP_ARCH_NATIVE), "removing an architecture");
    }
    if (next)
        check(seccomp_attr_set(context.get(), SCMP_FLTATR_ACT_BADARCH, *next),
              "setting the action for other architectures");
    for (const auto& resolved : rules)
        add_rule(context.get(), *resolved.rule, resolved.number, *resolved.name);
    if (architecture == seccomp_arch_native() && rules.size() > rules_worth_a_tree)
        check(seccomp_attr_set(context.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2),
              "asking libseccomp for a binary tree filter");
    return export_program(context.get());
}

// Turns each "return <marker>" into a jump just past the program's end.
void chain_to_next(std::vector<sock_filter>& program, std::uint32_t marker) {
    for (std::size_t at = 0; at < program.size(); ++at)
        if (program[at].code == (BPF_RET | BPF_K) && program[at].k == marker)
            program[at] =
                BPF_STMT(BPF_JMP | BPF_JA, static_cast<std::uint32_t>(program.size() - at - 1));
}

} // namespace

BpfProgram build_bpf_program(const Profile& profile) {
    std::vector<std::uint32_t> architectures = filter_architectures(profile);
    BpfProgram result;
    std::vector<ResolvedRule> rules = resolve_rules(profile, result.skipped_syscalls);
    std::uint32_t marker = unused_action(profile);

    std::vector<sock_filter> programs;
    for (std::size_t i = 0; i < architectures.size(); ++i) {
        bool last = i + 1 == architectures.size();
        std::vector<sock_filter> program = program_for(profile, architectures[i], rules,
                                                       last ? std::nullopt : std::optional(marker));
        if (!last) chain_to_next(program, marker);
        programs.insert(programs.end(), program.begin(), program.end());
    }
    // A deny-list lets unknown calls run anyway; only an allow-list needs the stub.
    if (!lets_syscall_run(profile.default_action))
        result.instructions = enosys_stub(highest_syscalls(profile, architectures));
    result.instructions.insert(result.instructions.end(), programs.begin(), programs.end());
    return result;
}

} // namespace berth::runtime::seccomp
