// Linux capabilities by name, and applying process.capabilities: every set
// is made exactly what the spec lists, so nothing it does not grant survives.
#pragma once

#include "berth/oci/runtime_spec.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace berth::runtime {

// CAP_CHOWN → 0; -1 for a name this runtime does not know.
int capability_number(std::string_view name);
const char* capability_name(int number);
// The highest capability the running kernel knows.
int last_capability();

struct CapabilitySets {
    std::uint64_t bounding = 0, effective = 0, inheritable = 0, permitted = 0, ambient = 0;
};

// Names → bit sets; an unknown name or one the host's bounding set lacks is
// an error naming it.
CapabilitySets resolve_capabilities(const oci::Capabilities& caps);

// Before changing uid: shrink the bounding set. Keeps permitted caps across setuid.
void drop_bounding_set(const CapabilitySets& sets);
// After changing uid: set effective, permitted, inheritable, ambient.
void apply_capability_sets(const CapabilitySets& sets);

} // namespace berth::runtime
