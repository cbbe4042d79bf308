// Handing the notify fd to the seccomp agent, as the runtime spec's
// "container process state" over listenerPath.
#include "berth/runtime/seccomp.h"

#include "berth/base/error.h"
#include "berth/base/syscalls.h"
#include "berth/base/unique_fd.h"
#include "berth/base/unix_socket.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

namespace berth::runtime::seccomp {

namespace {

// The runtime-spec release whose containerProcessState this message follows.
constexpr const char* process_state_version = "1.2.0";

std::string process_state(const std::string& state_json, const std::string& metadata) {
    nlohmann::json state = nlohmann::json::parse(state_json, nullptr, false);
    if (state.is_discarded() || !state.is_object())
        fail("the container state to send is not a JSON object");
    auto pid = state.find("pid");
    if (pid == state.end() || !pid->is_number_integer() || pid->get<long long>() <= 0)
        fail("the container state to send has no \"pid\" of the container's process");
    nlohmann::ordered_json message;
    message["ociVersion"] = process_state_version;
    message["fds"] = {"seccompFd"};
    message["pid"] = *pid;
    if (!metadata.empty()) message["metadata"] = metadata;
    message["state"] = state;
    return message.dump();
}

} // namespace

UniqueFd connect_listener(const std::string& listener_path) {
    return connect_unix(listener_path, "connecting to the seccomp agent at " + listener_path);
}

void send_notify_fd(int listener_socket, int notify_fd, const std::string& state_json,
                    const std::string& metadata) {
    std::string message = process_state(state_json, metadata);
    send_all_with_fd(listener_socket, message, notify_fd,
                     "handing the seccomp notify fd to the agent");
    // One state per connection, then closed by the caller: the close is how
    // the agent knows the message is complete.
}

void send_notify_fd(const std::string& listener_path, int notify_fd, const std::string& state_json,
                    const std::string& metadata) {
    UniqueFd socket_fd = connect_listener(listener_path);
    send_notify_fd(socket_fd.get(), notify_fd, state_json, metadata);
}

} // namespace berth::runtime::seccomp
