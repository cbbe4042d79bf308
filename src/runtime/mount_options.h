// Splits an OCI mount's "options" into what each part of the new mount API
// takes: per-mount attributes, propagation, and filesystem parameters.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace berth::runtime {

struct MountOptions {
    bool bind = false;
    bool recursive_bind = false;
    // MOUNT_ATTR_* for this mount only, and for every mount under it ("rro"...).
    std::uint64_t attr_set = 0;
    std::uint64_t attr_clear = 0;
    std::uint64_t recursive_attr_set = 0;
    std::uint64_t recursive_attr_clear = 0;
    // MS_PRIVATE, MS_SHARED, MS_SLAVE or MS_UNBINDABLE; 0 for none.
    unsigned long propagation = 0;
    bool recursive_propagation = false;
    // Filesystem parameters for fsconfig: ("size", "65536k"), ("newinstance", "").
    std::vector<std::pair<std::string, std::string>> data;
};

// Throws for options the runtime does not know how to honour ("idmap").
MountOptions parse_mount_options(const std::vector<std::string>& options);

// MS_* propagation flags for a rootfsPropagation value such as "rslave".
unsigned long parse_propagation(const std::string& value);

} // namespace berth::runtime
