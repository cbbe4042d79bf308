// The OCI runtime state: what `state ID` prints and what hooks read on stdin.
#pragma once

#include <map>
#include <string>
#include <sys/types.h>

namespace berth::oci {

// paused is not in the OCI spec, but runc reports it and its callers expect it.
enum class Status { creating, created, running, paused, stopped };

const char* status_name(Status status);

struct State {
    std::string oci_version;
    std::string id;
    Status status = Status::creating;
    pid_t pid = 0; // 0 once stopped
    std::string bundle;
    std::map<std::string, std::string> annotations;
    // runc's extra fields, which containerd and podman read.
    std::string rootfs;
    std::string created; // RFC 3339
    std::string owner;
};

// The state as a JSON object (compact, one line).
std::string state_to_json(const State& state, bool pretty = false);

} // namespace berth::oci
