// A container's config.json from the request and the image's config, with
// Docker's defaults: its capability set, masked and read-only /proc and /sys
// paths, the usual mounts, berth's seccomp profile, a cgroup with the
// requested limits. A pure function, so every rule is unit tested.
#pragma once

#include "berth/engine/run_request.h"
#include "berth/engine/user_lookup.h"
#include "berth/oci/image_spec.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace berth::engine {

// What the engine found out besides the request and the image.
struct SpecInputs {
    std::string id;
    std::string hostname;
    ResolvedUser user;
    // Host files bind-mounted over the container's /etc files.
    std::string hostname_file, hosts_file, resolv_conf_file;
    // The network namespace to join (a netns file, /proc/PID/ns/net); "" for a new one.
    std::string netns_path;
    nlohmann::json
        seccomp_profile; // berth's default profile; used unless the request says otherwise
    std::uint64_t nofile_hard_limit = 1048576; // the host's hard RLIMIT_NOFILE
    // The capabilities this host can grant (its bounding set): what
    // --privileged and --cap-add ALL mean here. Empty: every known one.
    std::vector<std::string> host_capabilities;
    // From the request's ContainerOptions (spec_options.h): its mounts in
    // OCI form, --group-add resolved, and --init's binary on the host.
    nlohmann::json mounts = nlohmann::json::array();
    std::vector<std::uint32_t> extra_gids;
    std::string init_path;
};

// Docker's default capability set.
const std::vector<std::string>& default_capabilities();
// Every capability this build knows, in the kernel's numbering order.
const std::vector<std::string>& all_capabilities();
// Those of all_capabilities() in this process's bounding set.
std::vector<std::string> bounding_capabilities();

// The default set with --cap-add/--cap-drop applied ("ALL", names with or
// without "CAP_", any case; ALL and --privileged mean all of `host`, or of
// all_capabilities() when it is empty). Error on an unknown name.
std::vector<std::string> effective_capabilities(const RunRequest& request,
                                                const std::vector<std::string>& host = {});

// ENTRYPOINT + CMD as Docker combines them; Error "no command specified".
std::vector<std::string> process_args(const RunRequest& request, const oci::ContainerConfig& image);

// The image's env, then HOSTNAME, PATH and HOME if missing, then the request's (later wins).
std::vector<std::string> process_env(const RunRequest& request, const oci::ContainerConfig& image,
                                     const SpecInputs& inputs);

// linux.cgroupsPath: --cgroup-parent (else /berth), then the id.
std::string container_cgroups_path(const RunRequest& request, const std::string& id);

// The whole config.json document.
nlohmann::json build_oci_spec(const RunRequest& request, const oci::ContainerConfig& image,
                              const SpecInputs& inputs);

// "512m" / "1g" / "1024" (bytes) -> bytes; Error on anything else.
std::int64_t parse_memory_size(const std::string& text);

} // namespace berth::engine
