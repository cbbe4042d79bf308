// Images in and out of the store as files: `docker save` archives (the
// legacy manifest.json form and Docker 25's OCI layout form), OCI image
// layouts as archives or directories, and plain rootfs tarballs (import).
#pragma once

#include "berth/image/byte_stream.h"
#include "berth/image/image_store.h"

#include <string>
#include <vector>

namespace berth::image {

struct LoadedImage {
    oci::Digest id;
    std::vector<std::string> names; // familiar names given by the archive
};

// Reads a docker-archive or OCI archive (possibly gzip or zstd compressed)
// from `archive`; every blob is verified against its digest.
std::vector<LoadedImage> load_archive(ImageStore& store, ByteSource& archive);
// The same from an OCI image layout directory.
std::vector<LoadedImage> load_oci_directory(ImageStore& store, const std::string& directory);

enum class SaveFormat { docker_archive, oci_archive, oci_directory };

// Writes `images` (as the user named them: those names become the archive's
// tags) to `fd`, or for oci_directory into `directory`. The docker archive
// is an OCI layout plus manifest.json, as Docker 25 writes it, which both
// `docker load` (any version) and OCI tools read.
void save_images(ImageStore& store, const std::vector<std::string>& references, SaveFormat format,
                 int fd, const std::string& directory = {});

struct ImportOptions {
    // Dockerfile instructions applied to the config: CMD, ENTRYPOINT, ENV,
    // EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL.
    std::vector<std::string> changes;
    std::string message;     // the history entry's comment
    std::string source_name; // shown in history: "Imported from <source>"
};

// A rootfs tarball (plain, gzip or zstd) as a one-layer image.
Image import_tarball(ImageStore& store, ByteSource& tarball, const std::vector<std::string>& names,
                     const ImportOptions& options);

// Applies one --change instruction to `config`; Error on an unknown or malformed one.
void apply_change(oci::ContainerConfig& config, const std::string& instruction);

// Now as RFC 3339 UTC, or $SOURCE_DATE_EPOCH when set (reproducible images).
std::string creation_time();

} // namespace berth::image
