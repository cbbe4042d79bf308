// linux.namespaces: which to create (clone flags), which to join (by path),
// and the user namespace's id maps.
#pragma once

#include "berth/oci/runtime_spec.h"

#include <cstdint>
#include <sys/types.h>

namespace berth::runtime {

int namespace_clone_flag(const std::string& type);

// CLONE_NEW* for every namespace the spec creates (no path).
std::uint64_t new_namespace_flags(const oci::Spec& spec);
bool joins_any_namespace(const oci::Spec& spec);

// setns into every namespace given by path, the user namespace first so the
// others are entered with its rights.
void join_namespaces(const oci::Spec& spec);

// Writes uid_map and gid_map of `pid` (and "deny" to setgroups when not root).
void write_id_mappings(pid_t pid, const oci::Spec& spec);

// Writes /proc/self/timens_offsets for the time namespace unshared for children.
void write_time_offsets(const oci::Spec& spec);

} // namespace berth::runtime
