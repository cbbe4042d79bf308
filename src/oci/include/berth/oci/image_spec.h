// The OCI image spec's documents (descriptor, manifest, index, image config),
// and Docker's schema 2 equivalents, which name the same fields differently
// only in their media types. Parsing is strict about what berth relies on and
// lenient about the rest, since images come from anyone.
#pragma once

#include "berth/oci/digest.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::oci {

namespace media_type {
inline constexpr const char* oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* oci_layer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr const char* docker_manifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* docker_manifest_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* docker_layer_gzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
} // namespace media_type

enum class Compression { none, gzip, zstd };

// How a layer's bytes are compressed, from its media type; Error if it is
// not a layer type berth can unpack (foreign or encrypted layers).
Compression layer_compression(std::string_view media_type);
bool is_manifest_type(std::string_view media_type);
bool is_index_type(std::string_view media_type);

struct Platform {
    std::string architecture;
    std::string os;
    std::string variant;
};

struct Descriptor {
    std::string media_type;
    Digest digest;
    std::int64_t size = 0;
    std::map<std::string, std::string> annotations;
    std::optional<Platform> platform;
};

struct Manifest {
    int schema_version = 2;
    std::string media_type;
    Descriptor config;
    std::vector<Descriptor> layers;
    std::map<std::string, std::string> annotations;
};

struct Index {
    int schema_version = 2;
    std::string media_type;
    std::vector<Descriptor> manifests;
    std::map<std::string, std::string> annotations;
};

// Docker's HEALTHCHECK: how to tell that a container works. Durations in
// nanoseconds, 0 for the default.
struct Healthcheck {
    std::vector<std::string> test; // {"NONE"}, {"CMD", ...} or {"CMD-SHELL", "command"}
    std::int64_t interval = 0;
    std::int64_t timeout = 0;
    std::int64_t start_period = 0;
    std::int64_t start_interval = 0;
    int retries = 0;
};

// What a container started from the image inherits (the "config" object).
struct ContainerConfig {
    std::string user;
    std::vector<std::string> exposed_ports;
    std::vector<std::string> env;
    std::vector<std::string> entrypoint;
    std::vector<std::string> cmd;
    std::vector<std::string> volumes;
    std::string working_dir;
    std::map<std::string, std::string> labels;
    std::string stop_signal;
    // Docker's extensions, which `berth build` writes and reads.
    std::optional<Healthcheck> healthcheck;
    std::vector<std::string> on_build; // ONBUILD triggers, as written
    std::vector<std::string> shell;    // SHELL, for the shell form of RUN, CMD, ENTRYPOINT
};

struct HistoryEntry {
    std::string created;
    std::string created_by;
    std::string author;
    std::string comment;
    bool empty_layer = false;
};

struct ImageConfig {
    std::string created; // RFC 3339, may be empty
    std::string author;
    std::string architecture;
    std::string os;
    std::string variant;
    ContainerConfig config;
    std::vector<Digest> diff_ids;
    std::vector<HistoryEntry> history;
};

// Parsers of untrusted JSON: Error naming the field on anything malformed.
Descriptor parse_descriptor(std::string_view json);
Manifest parse_manifest(std::string_view json);
Index parse_index(std::string_view json);
ImageConfig parse_image_config(std::string_view json);

// Canonical documents (compact JSON, keys sorted), so that the same input
// always gives the same digest.
std::string manifest_to_json(const Manifest& manifest);
std::string index_to_json(const Index& index);
std::string image_config_to_json(const ImageConfig& config);

// The platform this build of berth runs images for ("amd64", "linux").
Platform host_platform();

} // namespace berth::oci
