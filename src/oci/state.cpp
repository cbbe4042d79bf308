#include "berth/oci/state.h"

#include <nlohmann/json.hpp>

namespace berth::oci {

const char* status_name(Status status) {
    switch (status) {
    case Status::creating:
        return "creating";
    case Status::created:
        return "created";
    case Status::running:
        return "running";
    case Status::paused:
        return "paused";
    case Status::stopped:
        return "stopped";
    }
    return "unknown";
}

std::string state_to_json(const State& state, bool pretty) {
    nlohmann::ordered_json out;
    out["ociVersion"] = state.oci_version;
    out["id"] = state.id;
    out["pid"] = state.pid;
    out["status"] = status_name(state.status);
    out["bundle"] = state.bundle;
    out["rootfs"] = state.rootfs;
    out["created"] = state.created;
    out["owner"] = state.owner;
    out["annotations"] = state.annotations;
    return out.dump(pretty ? 2 : -1);
}

} // namespace berth::oci
