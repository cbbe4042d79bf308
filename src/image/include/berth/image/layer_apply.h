// Writes one layer's tar stream into an empty snapshot directory, as overlay
// expects to find it: whiteouts become 0/0 character devices, opaque
// directories get trusted.overlay.opaque=y. Every file is created with *at()
// calls on directory fds beneath the snapshot, never through a symlink, so a
// hostile layer cannot write outside its directory.
#pragma once

#include "berth/image/tar_reader.h"

#include <cstdint>

namespace berth::image {

struct ApplyOptions {
    // Set owners from the archive (needs CAP_CHOWN); off for rootless unpacks.
    bool preserve_ownership = true;
    // Refuse a layer that unpacks to more than this many bytes of file data
    // (0: no limit besides the disk), so a decompression bomb fails cleanly.
    std::uint64_t max_bytes = 0;
};

struct ApplyStats {
    std::uint64_t entries = 0;
    std::uint64_t bytes = 0; // file data written
};

// Applies every entry of `archive` beneath the directory open at `root_fd`.
// Error names the entry that failed; the caller removes the half-written dir.
ApplyStats apply_layer(TarReader& archive, int root_fd, const ApplyOptions& options = {});

// The overlay whiteout conventions (AUFS names inside OCI layers).
inline constexpr const char* whiteout_prefix = ".wh.";
inline constexpr const char* opaque_whiteout = ".wh..wh..opq";
inline constexpr const char* overlay_opaque_xattr = "trusted.overlay.opaque";

} // namespace berth::image
