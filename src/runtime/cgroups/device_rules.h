// linux.resources.devices: rules that allow or deny device access, applied
// in order. v1 takes them as lines in devices.allow and devices.deny; v2 has
// no such files and needs them compiled into an eBPF program (device_bpf.h)
// that decides the way v1's kernel code does.
#pragma once

#include "resource_fields.h"

#include <cstdint>
#include <string>
#include <vector>

namespace berth::runtime::cgroups {

// Access bits as the kernel's eBPF device context numbers them.
enum DeviceAccess : unsigned { access_mknod = 1, access_read = 2, access_write = 4 };

struct DeviceRule {
    bool allow = false;
    char type = 'a';         // 'a' (all), 'c' or 'b'
    std::int64_t major = -1; // -1: any
    std::int64_t minor = -1; // -1: any
    unsigned access = access_mknod | access_read | access_write;
};

std::vector<DeviceRule> parse_device_rules(const Field& resources);

// "c 1:3 rwm", "a *:* rwm": the line v1's devices.allow / devices.deny take.
std::string v1_device_line(const DeviceRule& rule);

// What v1's device controller holds after the rules, starting from a new
// cgroup's "allow everything": a default and exceptions to it. Rules of type
// 'a' reset both; other rules add an exception to the opposite default or
// take access away from the exception with the same type and numbers.
struct DeviceException {
    char type;                 // 'c' or 'b'
    std::int64_t major, minor; // -1: any
    unsigned access;
};
struct DevicePolicy {
    bool allow_by_default = true;
    std::vector<DeviceException> exceptions;
};
DevicePolicy device_policy(const std::vector<DeviceRule>& rules);

} // namespace berth::runtime::cgroups
