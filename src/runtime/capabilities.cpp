#include "capabilities.h"

#include "berth/runtime/runtime.h"

#include "berth/base/error.h"
#include "berth/base/files.h"

#include <iterator>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace berth::runtime {

namespace {

constexpr const char* capability_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
constexpr int known_capabilities = sizeof capability_names / sizeof capability_names[0];

std::uint64_t to_bits(const std::vector<std::string>& names, const char* set_name,
                      std::uint64_t host_bounding) {
    std::uint64_t bits = 0;
    for (const auto& name : names) {
        int number = capability_number(name);
        if (number < 0)
            fail(std::string("process.capabilities.") + set_name + ": unknown capability \"" +
                 name + "\"");
        if (number > last_capability() || !(host_bounding & (1ULL << number)))
            fail(std::string("process.capabilities.") + set_name + ": " + name +
                 " is not in this host's capability bounding set, so it cannot be granted");
        bits |= 1ULL << number;
    }
    return bits;
}

std::uint64_t host_bounding_set() {
    std::uint64_t bits = 0;
    for (int cap = 0; cap <= last_capability(); ++cap)
        if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) bits |= 1ULL << cap;
    return bits;
}

} // namespace

const std::vector<std::string>& known_capability_names() {
    static const std::vector<std::string> names(std::begin(capability_names),
                                                std::end(capability_names));
    return names;
}

int capability_number(std::string_view name) {
    for (int i = 0; i < known_capabilities; ++i)
        if (name == capability_names[i]) return i;
    return -1;
}

const char* capability_name(int number) {
    return number >= 0 && number < known_capabilities ? capability_names[number] : "CAP_UNKNOWN";
}

int last_capability() {
    static int last = [] {
        try {
            return std::stoi(read_file("/proc/sys/kernel/cap_last_cap"));
        } catch (...) {
            return known_capabilities - 1;
        }
    }();
    return last;
}

CapabilitySets resolve_capabilities(const oci::Capabilities& caps) {
    std::uint64_t host = host_bounding_set();
    CapabilitySets sets;
    sets.bounding = to_bits(caps.bounding, "bounding", host);
    sets.effective = to_bits(caps.effective, "effective", host);
    sets.inheritable = to_bits(caps.inheritable, "inheritable", host);
    sets.permitted = to_bits(caps.permitted, "permitted", host);
    sets.ambient = to_bits(caps.ambient, "ambient", host);
    return sets;
}

void drop_bounding_set(const CapabilitySets& sets) {
    for (int cap = 0; cap <= last_capability(); ++cap) {
        if (sets.bounding & (1ULL << cap)) continue;
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            throw_errno(std::string("dropping ") + capability_name(cap) + " from the bounding set");
    }
}

void apply_capability_sets(const CapabilitySets& sets) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    for (int word = 0; word < 2; ++word) {
        data[word].effective = static_cast<std::uint32_t>(sets.effective >> (32 * word));
        data[word].permitted = static_cast<std::uint32_t>(sets.permitted >> (32 * word));
        data[word].inheritable = static_cast<std::uint32_t>(sets.inheritable >> (32 * word));
    }
    if (::syscall(SYS_capset, &header, data) < 0) throw_errno("setting capabilities");
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        throw_errno("clearing ambient capabilities");
    for (int cap = 0; cap <= last_capability(); ++cap) {
        if (!(sets.ambient & (1ULL << cap))) continue;
        // The kernel refuses an ambient cap not also permitted and inheritable;
        // runc and crun skip those silently, so do we.
        if (!(sets.permitted & sets.inheritable & (1ULL << cap))) continue;
        if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
            throw_errno(std::string("raising ambient capability ") + capability_name(cap));
    }
}

} // namespace berth::runtime
