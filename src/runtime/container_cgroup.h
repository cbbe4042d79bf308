// How a container uses the cgroups library: whether it gets cgroups at all,
// the device rules every container needs, and finding them again later.
#pragma once

#include "berth/oci/runtime_spec.h"
#include "berth/runtime/cgroups.h"

#include <optional>
#include <string>

namespace berth::runtime {

// A config with neither linux.cgroupsPath nor linux.resources gets no
// cgroup: nothing is limited, and making one costs a v1 host milliseconds.
// Commands that need one (ps, pause, update, events) say so.
bool wants_cgroup(const oci::Spec& spec);

// Creates the container's cgroups and applies its resources, with the
// device rules runc adds: the default devices and linux.devices are allowed
// whatever linux.resources.devices denies. A rootless runtime that may not
// write cgroups gets none, with a warning, as runc and crun do.
std::optional<cgroups::Cgroup> setup_cgroup(const oci::Spec& spec, const std::string& id);

// The cgroup saved in a record, if any.
std::optional<cgroups::Cgroup> saved_cgroup(const std::string& saved_json);

// linux.resources with the device rules above added.
nlohmann::json effective_resources(const oci::Spec& spec);

} // namespace berth::runtime
