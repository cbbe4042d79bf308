// What `berth create`/`berth run` asked for, as plain data: the command line
// fills it, the engine turns it (with the image's config) into config.json,
// and berth.db keeps it as JSON so that `start` and `inspect` see the same.
#pragma once

#include "berth/engine/container_options.h"
#include "berth/engine/healthcheck.h"
#include "berth/engine/network_options.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace berth::engine {

struct RunRequest {
    std::string image;                   // as the user named it
    std::vector<std::string> command;    // replaces the image's CMD when not empty
    bool entrypoint_given = false;       // --entrypoint, even "", replaces the image's
    std::vector<std::string> entrypoint; // and then the image's CMD is dropped too
    std::string name;
    std::vector<std::string>
        env; // "KEY=value" (resolved: "KEY" alone is taken from the host by the CLI)
    std::string workdir;
    std::string user;
    std::string hostname;
    bool auto_remove = false;
    bool interactive = false; // -i: the container's stdin comes from whoever attaches
    bool tty = false;         // -t: the process gets a terminal (the monitor holds its master)
    std::string log_driver = "json-file";           // or "none"
    std::map<std::string, std::string> log_options; // --log-opt max-size=10m max-file=3
    bool read_only = false;
    bool privileged = false;
    bool no_new_privileges = false;
    std::int64_t memory_bytes = 0; // 0: no limit
    std::int64_t pids_limit = 0;   // 0: no limit
    double cpus = 0;               // 0: no limit
    std::vector<std::string> cap_add, cap_drop;
    // "" (berth's default profile), "unconfined", or the profile's JSON text
    // (read by the CLI, so the container keeps what it was created with).
    std::string seccomp;
    // "bridge" (Docker's default network), "none", "host", "container:NAME"
    // or a network made by `berth network create`.
    std::string network = "bridge";
    NetworkOptions network_options;
    // Relative (to the monitor's own cgroup) or absolute cgroup parent.
    std::string cgroup_parent;
    std::string stop_signal; // "" for the image's, else SIGTERM
    int stop_timeout = -1;   // seconds; -1 for the default (10)
    // --runtime: "berth" (the in-process runtime library), or a runc-compatible
    // runtime's name in $PATH or path; "" until create resolves it.
    std::string runtime;
    // --health-*: over the image's HEALTHCHECK until create; then the
    // check the container runs ({"NONE"} for none).
    HealthcheckRequest healthcheck;
    // Mounts, volumes, ulimits, labels, --init, the restart policy... (container_options.h).
    ContainerOptions options;
};

nlohmann::json to_json(const RunRequest& request);
RunRequest run_request_from_json(const nlohmann::json& json);

} // namespace berth::engine
