// Platforms as users write them ("linux/arm64/v8") and the choice of one
// manifest from a multi-platform index, as Docker makes it.
#pragma once

#include "berth/oci/image_spec.h"

#include <optional>
#include <string_view>

namespace berth::oci {

// "linux/amd64", "linux/arm/v7", "arm64" (os defaults to linux). Error if malformed.
Platform parse_platform(std::string_view text);
std::string platform_string(const Platform& platform);

// The manifest of `index` for `wanted`: same os and architecture, and the
// same variant when one is asked for (an entry without a variant is
// preferred otherwise). Entries that are not manifests, or describe no
// platform ("unknown/unknown" attestations), are skipped; nothing when none fits.
std::optional<Descriptor> choose_platform(const Index& index, const Platform& wanted);

} // namespace berth::oci
