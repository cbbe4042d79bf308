// Filter: compile at create time, load at the last moment before exec.
#include "berth/runtime/seccomp.h"

#include "berth/base/error.h"
#include "bpf_program.h"
#include "filter_cache.h"
#include "kernel_support.h"
#include "profile.h"

#include <cerrno>
#include <optional>

namespace berth::runtime::seccomp {

namespace {

const char* flag_name(unsigned int flag) {
    switch (flag) {
    case SECCOMP_FILTER_FLAG_TSYNC:
        return "SECCOMP_FILTER_FLAG_TSYNC";
    case SECCOMP_FILTER_FLAG_LOG:
        return "SECCOMP_FILTER_FLAG_LOG";
    case SECCOMP_FILTER_FLAG_SPEC_ALLOW:
        return "SECCOMP_FILTER_FLAG_SPEC_ALLOW";
    case SECCOMP_FILTER_FLAG_NEW_LISTENER:
        return "SECCOMP_FILTER_FLAG_NEW_LISTENER (needed by SCMP_ACT_NOTIFY)";
    case SECCOMP_FILTER_FLAG_TSYNC_ESRCH:
        return "SECCOMP_FILTER_FLAG_TSYNC_ESRCH (needed by TSYNC with SCMP_ACT_NOTIFY)";
    case SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV:
        return "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV";
    }
    return "an unnamed seccomp flag";
}

unsigned int flags_for_kernel(unsigned int listed, bool notify) {
    unsigned int flags = listed;
    if (notify) {
        flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        // The kernel refuses TSYNC with a listener unless a thread that cannot
        // be synchronised is reported as ESRCH instead of by its id (which
        // would be indistinguishable from the listener fd).
        if (flags & SECCOMP_FILTER_FLAG_TSYNC) flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    } else {
        // It only changes how a notifying process waits, and the kernel
        // refuses it without a listener; with no NOTIFY rule it means nothing.
        flags &= ~static_cast<unsigned int>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    }
    return flags;
}

void check_kernel_support(unsigned int flags) {
    if (int error = kernel_refusal(0))
        throw_errno("linux.seccomp: this system cannot load seccomp filters", error);
    // Each flag with the ones the kernel insists go with it.
    unsigned int companions =
        flags & (SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC_ESRCH);
    for (unsigned int bit = 1; bit != 0 && bit <= flags; bit <<= 1)
        if ((flags & bit) && kernel_refusal(bit | companions))
            fail(std::string("linux.seccomp.flags: this kernel does not support ") +
                 flag_name(bit));
    if (int error = kernel_refusal(flags))
        throw_errno("linux.seccomp.flags: this kernel refuses these flags together", error);
}

} // namespace

Filter Filter::compile(const nlohmann::json& seccomp) {
    return compile(seccomp, {});
}

Filter Filter::compile(const nlohmann::json& seccomp, const std::string& cache_directory) {
    // Parsed every time, cached or not: its errors belong to this create.
    Profile profile = parse_profile(seccomp);
    std::optional<BpfProgram> cached;
    std::string key;
    if (!cache_directory.empty()) {
        key = cache_key(seccomp);
        cached = read_cached_program(cache_directory, key);
    }
    BpfProgram program = cached ? std::move(*cached) : build_bpf_program(profile);
    // The kernel's own limit on one program; beyond it load would fail with a
    // bare EINVAL.
    if (program.instructions.size() > BPF_MAXINSNS)
        fail("linux.seccomp: the profile compiles to " +
             std::to_string(program.instructions.size()) +
             " BPF instructions, more than the kernel's limit of " + std::to_string(BPF_MAXINSNS) +
             "; use fewer rules or architectures");
    if (!cache_directory.empty() && !cached) write_cached_program(cache_directory, key, program);

    Filter filter;
    filter.program_ = std::move(program.instructions);
    filter.skipped_syscalls_ = std::move(program.skipped_syscalls);
    filter.wants_notify_ = profile.uses_notify;
    filter.flags_ = flags_for_kernel(profile.flags, profile.uses_notify);
    filter.listener_path_ = std::move(profile.listener_path);
    filter.listener_metadata_ = std::move(profile.listener_metadata);
    check_kernel_support(filter.flags_);
    return filter;
}

int Filter::load() const {
    sock_fprog program{static_cast<unsigned short>(program_.size()),
                       const_cast<sock_filter*>(program_.data())};
    long result = seccomp_syscall(SECCOMP_SET_MODE_FILTER, flags_, &program);
    if (result < 0) {
        int error = errno;
        if (error == EACCES)
            throw_errno("loading the seccomp filter (set no_new_privs, or keep CAP_SYS_ADMIN "
                        "until the filter is loaded)",
                        error);
        if (error == ESRCH)
            throw_errno("loading the seccomp filter: another thread of the process could not "
                        "take it (SECCOMP_FILTER_FLAG_TSYNC)",
                        error);
        throw_errno("loading the seccomp filter", error);
    }
    if (wants_notify_) return static_cast<int>(result);
    // Without a listener, TSYNC reports a thread it could not synchronise by
    // its id, and the filter is then on none of them.
    if (result > 0)
        fail("loading the seccomp filter: thread " + std::to_string(result) +
             " could not take it (SECCOMP_FILTER_FLAG_TSYNC)");
    return -1;
}

} // namespace berth::runtime::seccomp
