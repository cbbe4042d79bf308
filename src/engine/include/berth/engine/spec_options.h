// The ContainerOptions part of config.json (mounts, rlimits, extra groups,
// cgroup knobs, --init), applied after build_oci_spec has written the rest,
// and the checks of those options that come before anything is made.
#pragma once

#include "berth/engine/oci_spec_builder.h"

#include <nlohmann/json.hpp>

namespace berth::engine {

// Where --init's binary is mounted in the container, as Docker's docker-init.
inline constexpr const char* init_mount_point = "/sbin/docker-init";

// Errors on options that cannot work: a ulimit above the host's hard limit,
// --memory-swap without --memory or below it, a bad cpuset, --rm with a
// restart policy.
void check_container_options(const RunRequest& request);

// Adds the options to a spec made by build_oci_spec.
void apply_container_options(nlohmann::json& spec, const RunRequest& request,
                             const SpecInputs& inputs);

// "nofile" -> "RLIMIT_NOFILE".
std::string rlimit_type(const std::string& name);

} // namespace berth::engine
