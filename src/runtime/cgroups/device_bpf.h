// Device rules on cgroup v2: there are no devices.allow/deny files; the
// kernel asks an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE attached
// to the cgroup instead. This compiles a DevicePolicy into one.
#pragma once

#include "device_rules.h"

#include <linux/bpf.h>
#include <string>
#include <vector>

namespace berth::runtime::cgroups {

// A program that answers each access (type, major, minor, r/w/m) the way
// v1's device controller answers it under `policy`: with a deny default,
// allowed when one exception covers all the access asked for; with an
// allow default, denied when an exception covers any of it.
std::vector<bpf_insn> device_program(const DevicePolicy& policy);

// Loads the program for `policy` and attaches it to the cgroup at
// `directory`, then detaches the ones attached before (an update replaces
// the rules, and there is never a moment without any).
void install_device_program(const std::string& directory, const DevicePolicy& policy);

} // namespace berth::runtime::cgroups
