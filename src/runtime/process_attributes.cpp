#include "process_attributes.h"

#include "berth/base/error.h"

#include <cstdint>
#include <linux/ioprio.h>
#include <linux/sched.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace berth::runtime {

namespace {

// struct sched_attr of sched_setattr(2); glibc 2.36 does not declare it, and
// <linux/sched/types.h> clashes with glibc's sched_param.
struct sched_attr {
    std::uint32_t size;
    std::uint32_t sched_policy;
    std::uint64_t sched_flags;
    std::int32_t sched_nice;
    std::uint32_t sched_priority;
    std::uint64_t sched_runtime;
    std::uint64_t sched_deadline;
    std::uint64_t sched_period;
};

struct Named {
    const char* name;
    int value;
};

constexpr Named policies[] = {
    {"SCHED_OTHER", SCHED_NORMAL},      {"SCHED_FIFO", SCHED_FIFO}, {"SCHED_RR", SCHED_RR},
    {"SCHED_BATCH", SCHED_BATCH},       {"SCHED_ISO", 4},           {"SCHED_IDLE", SCHED_IDLE},
    {"SCHED_DEADLINE", SCHED_DEADLINE},
};

constexpr Named scheduler_flags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", SCHED_FLAG_RESET_ON_FORK},
    {"SCHED_FLAG_RECLAIM", SCHED_FLAG_RECLAIM},
    {"SCHED_FLAG_DL_OVERRUN", SCHED_FLAG_DL_OVERRUN},
    {"SCHED_FLAG_KEEP_POLICY", SCHED_FLAG_KEEP_POLICY},
    {"SCHED_FLAG_KEEP_PARAMS", SCHED_FLAG_KEEP_PARAMS},
    {"SCHED_FLAG_UTIL_CLAMP_MIN", SCHED_FLAG_UTIL_CLAMP_MIN},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", SCHED_FLAG_UTIL_CLAMP_MAX},
};

constexpr Named io_classes[] = {
    {"IOPRIO_CLASS_RT", IOPRIO_CLASS_RT},
    {"IOPRIO_CLASS_BE", IOPRIO_CLASS_BE},
    {"IOPRIO_CLASS_IDLE", IOPRIO_CLASS_IDLE},
};

template <std::size_t N>
int lookup(const Named (&table)[N], const std::string& name, const char* field) {
    for (const auto& entry : table)
        if (name == entry.name) return entry.value;
    fail(std::string(field) + ": unknown value \"" + name + "\"");
}

} // namespace

void validate_process_attributes(const oci::Process& process, const oci::Linux& linux) {
    if (process.scheduler) {
        lookup(policies, process.scheduler->policy, "process.scheduler.policy");
        for (const auto& flag : process.scheduler->flags)
            lookup(scheduler_flags, flag, "process.scheduler.flags");
    }
    if (process.io_priority) {
        lookup(io_classes, process.io_priority->io_class, "process.ioPriority.class");
        if (process.io_priority->priority < 0 || process.io_priority->priority > 7)
            fail("process.ioPriority.priority: expected 0 to 7");
    }
    for (const auto& flag : linux.personality_flags)
        fail("linux.personality.flags: unknown flag \"" + flag + "\"");
}

void apply_process_attributes(const oci::Process& process, const oci::Linux& linux) {
    if (linux.personality_domain == "LINUX32" && ::personality(PER_LINUX32) < 0)
        throw_errno("setting the personality to LINUX32");
    if (process.io_priority) {
        int io_class =
            lookup(io_classes, process.io_priority->io_class, "process.ioPriority.class");
        int value = IOPRIO_PRIO_VALUE(io_class, process.io_priority->priority);
        if (::syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) < 0)
            throw_errno("setting the I/O priority to " + process.io_priority->io_class);
    }
    if (process.scheduler) {
        const oci::Scheduler& wanted = *process.scheduler;
        sched_attr attr{};
        attr.size = sizeof attr;
        attr.sched_policy =
            static_cast<unsigned>(lookup(policies, wanted.policy, "process.scheduler.policy"));
        for (const auto& flag : wanted.flags)
            attr.sched_flags |=
                static_cast<unsigned>(lookup(scheduler_flags, flag, "process.scheduler.flags"));
        attr.sched_nice = wanted.nice;
        attr.sched_priority = static_cast<unsigned>(wanted.priority);
        attr.sched_runtime = wanted.runtime;
        attr.sched_deadline = wanted.deadline;
        attr.sched_period = wanted.period;
        if (::syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
            throw_errno("setting the scheduling policy to " + wanted.policy);
    }
}

} // namespace berth::runtime
