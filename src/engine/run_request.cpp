#include "berth/engine/run_request.h"

namespace berth::engine {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    RunRequest, image, command, entrypoint_given, entrypoint, name, env, workdir, user, hostname,
    auto_remove, read_only, privileged, no_new_privileges, memory_bytes, pids_limit, cpus, cap_add,
    cap_drop, seccomp, network, network_options, cgroup_parent, stop_signal, stop_timeout,
    interactive, tty, log_driver, log_options, runtime)

nlohmann::json to_json(const RunRequest& request) {
    nlohmann::json json;
    to_json(json, request);
    json["options"] = request.options;
    json["healthcheck"] = request.healthcheck;
    return json;
}

RunRequest run_request_from_json(const nlohmann::json& json) {
    RunRequest request;
    from_json(json, request);
    if (json.contains("options")) request.options = json["options"].get<ContainerOptions>();
    if (json.contains("healthcheck"))
        request.healthcheck = json["healthcheck"].get<HealthcheckRequest>();
    return request;
}

} // namespace berth::engine
