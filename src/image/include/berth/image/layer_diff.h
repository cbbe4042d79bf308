// The changes a container made, as an OCI layer: an overlay upper directory
// (files added or changed, 0/0 character devices for deleted ones, the
// trusted.overlay.opaque xattr on directories that replace the lower ones)
// written as a tar with `.wh.` whiteouts, as `berth build` (RUN) and
// `berth commit` need. Entries come in sorted order with owners, modes,
// xattrs and hard links kept, so the same tree always gives the same bytes.
#pragma once

#include "berth/image/content_store.h"
#include "berth/oci/image_spec.h"

#include <cstdint>
#include <optional>
#include <set>
#include <string>

namespace berth::image {

struct LayerDiffOptions {
    // SOURCE_DATE_EPOCH: later modification times are clamped to it, so
    // that a rebuild from the same inputs gives the same layer.
    std::optional<std::int64_t> clamp_mtime;
    // Paths (relative to the upper, "etc/hosts") left out: mount targets the
    // runtime created, which are not the container's own changes.
    std::set<std::string> excluded;
};

struct LayerDiffStats {
    std::uint64_t entries = 0;
    std::uint64_t bytes = 0; // file data
};

// Writes the upper directory open at `upper_fd` as a tar to `out_fd`.
// Error on what overlay would mean but a tar cannot say (redirected or
// metacopy-only files).
LayerDiffStats write_layer_from_upper(int upper_fd, int out_fd,
                                      const LayerDiffOptions& options = {});

struct StoredLayer {
    oci::Descriptor layer;
    LayerDiffStats stats;
};

// The same, stored as an uncompressed layer blob (so its digest is its
// diffID). `scratch_dir` holds the tar while it is hashed.
StoredLayer store_layer_from_upper(ContentStore& blobs, int upper_fd,
                                   const std::string& scratch_dir,
                                   const LayerDiffOptions& options = {});

} // namespace berth::image
