// slirp4netns for rootless containers (see rootless_network.h).
#include "rootless_network.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/unix_socket.h"
#include "berth/network/ports.h"
#include "process_identity.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::engine {

namespace {

using nlohmann::json;

// The write end of slirp4netns's exit fd: closed with this process (the
// monitor), which ends slirp4netns even after a kill -9.
UniqueFd slirp_exit_writer;

std::string slirp_dir(const std::string& run_root) {
    return run_root + "/slirp4netns";
}

std::string pid_file(const std::string& run_root, const std::string& id) {
    return slirp_dir(run_root) + "/" + id + ".pid";
}

std::string ports_file(const std::string& run_root, const std::string& id) {
    return slirp_dir(run_root) + "/" + id + ".ports";
}

std::string api_socket(const std::string& run_root, const std::string& id) {
    // sun_path has room for 108 bytes: the short id keeps it under.
    return slirp_dir(run_root) + "/" + id.substr(0, 16) + ".sock";
}

std::string slirp4netns_binary() {
    const char* given = std::getenv("BERTH_SLIRP4NETNS");
    std::string path = given && *given ? given : "/usr/bin/slirp4netns";
    if (::access(path.c_str(), X_OK) != 0)
        fail("rootless networking needs slirp4netns (" + path +
             " is missing: apt-get install slirp4netns), or use --network none or host");
    return path;
}

// One request on slirp4netns's API socket; its reply.
json slirp_api(const std::string& socket_path, const json& request) {
    UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) throw_errno("socket");
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof address.sun_path) fail("path too long: " + socket_path);
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socket_path.c_str());
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0)
        throw_errno("connecting to slirp4netns at " + socket_path);
    write_all(sock.get(), request.dump(), socket_path);
    ::shutdown(sock.get(), SHUT_WR);
    std::string reply = read_all(sock.get());
    json parsed = json::parse(reply, nullptr, false);
    if (parsed.is_discarded()) fail("slirp4netns answered \"" + reply + "\"");
    return parsed;
}

// The port as it was published (a chosen host port filled in).
network::PortMapping add_host_forward(const std::string& socket_path, network::PortMapping port) {
    if (port.host_port == 0) port.host_port = network::free_host_port(port.protocol);
    json request = {{"execute", "add_hostfwd"},
                    {"arguments",
                     {{"proto", port.protocol},
                      {"host_addr", network::to_string(port.host_ip)},
                      {"host_port", port.host_port},
                      {"guest_port", port.container_port}}}};
    json reply = slirp_api(socket_path, request);
    if (reply.contains("error")) {
        std::string why = reply["error"].value("desc", reply["error"].dump());
        fail("Bind for " + network::to_string(port.host_ip) + ":" + std::to_string(port.host_port) +
             " failed: " + why);
    }
    return port;
}

} // namespace

void connect_rootless_network(const std::string& run_root, const std::string& id,
                              const std::string& netns_path, const RunRequest& request) {
    std::string binary = slirp4netns_binary();
    // Debian's udev makes it 0666; some machines keep it root's.
    if (::access("/dev/net/tun", R_OK | W_OK) != 0)
        throw_errno("rootless networking needs /dev/net/tun open to you (slirp4netns makes its "
                    "tap device there); make it mode 0666, or use --network none or host");
    make_directories(slirp_dir(run_root), 0700);
    std::string socket_path = api_socket(run_root, id);
    ::unlink(socket_path.c_str());
    int exit_pipe[2], ready_pipe[2];
    if (::pipe2(exit_pipe, O_CLOEXEC) < 0 || ::pipe2(ready_pipe, O_CLOEXEC) < 0)
        throw_errno("making slirp4netns's pipes");
    UniqueFd exit_read(exit_pipe[0]), exit_write(exit_pipe[1]);
    UniqueFd ready_read(ready_pipe[0]), ready_write(ready_pipe[1]);
    // --configure: tap0 up with 10.0.2.100/24, default route via 10.0.2.2;
    // the MTU podman uses (fewer, larger segments through the user-space stack).
    std::vector<std::string> argv = {
        binary,         "--configure", "--mtu=65520",       "--exit-fd=3", "--ready-fd=4",
        "--api-socket", socket_path,   "--netns-type=path", netns_path,    "tap0"};
    std::vector<char*> args;
    for (auto& arg : argv)
        args.push_back(arg.data());
    args.push_back(nullptr);
    pid_t child = ::fork();
    if (child < 0) throw_errno("forking slirp4netns");
    if (child == 0) {
        ::dup2(exit_read.get(), 3);
        ::dup2(ready_write.get(), 4);
        int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            ::dup2(null, 0);
            ::dup2(null, 1);
        }
        ::setsid(); // not in the terminal's signals: the monitor decides when it goes
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    exit_read.reset();
    ready_write.reset();
    slirp_exit_writer = std::move(exit_write);
    write_file_atomic(pid_file(run_root, id), std::to_string(child) + " " +
                                                  std::to_string(process_start_time(child)) + "\n");
    try {
        pollfd ready{ready_read.get(), POLLIN, 0};
        int polled = ::poll(&ready, 1, 10000);
        char byte = 0;
        if (polled <= 0 || ::read(ready_read.get(), &byte, 1) != 1 || byte != '1')
            fail("slirp4netns did not start for " + netns_path);
        json published = json::array();
        for (const auto& text : request.network_options.publish)
            for (const auto& wanted : network::parse_port_mappings(text)) {
                network::PortMapping port = add_host_forward(socket_path, wanted);
                published.push_back({{"protocol", port.protocol},
                                     {"host_ip", network::to_string(port.host_ip)},
                                     {"host_port", port.host_port},
                                     {"container_port", port.container_port}});
            }
        write_file_atomic(ports_file(run_root, id), published.dump());
    } catch (...) {
        disconnect_rootless_network(run_root, id);
        throw;
    }
}

int slirp4netns_exit_fd() {
    return slirp_exit_writer ? slirp_exit_writer.get() : -1;
}

std::optional<EndpointRecord> rootless_endpoint(const std::string& run_root,
                                                const std::string& id) {
    std::string ports;
    try {
        ports = read_file(ports_file(run_root, id));
    } catch (const Error&) {
        return std::nullopt;
    }
    EndpointRecord endpoint;
    endpoint.container_id = id;
    endpoint.network = slirp_network_name;
    endpoint.address = slirp_container_address;
    endpoint.interface = "tap0";
    endpoint.ports_json = ports;
    endpoint.aliases_json = "[]";
    return endpoint;
}

NetworkRecord rootless_network_record() {
    NetworkRecord network;
    network.name = slirp_network_name;
    network.bridge = slirp_network_name;
    network.subnet = "10.0.2.0/24";
    network.gateway = "10.0.2.2";
    return network;
}

void disconnect_rootless_network(const std::string& run_root, const std::string& id) {
    std::string file = pid_file(run_root, id);
    long pid = 0;
    long long start_time = 0;
    try {
        std::sscanf(read_file(file).c_str(), "%ld %lld", &pid, &start_time);
    } catch (const Error&) {
        return; // none runs
    }
    if (pid > 0 && process_alive(static_cast<pid_t>(pid), start_time)) {
        ::kill(static_cast<pid_t>(pid), SIGKILL);
        // Ours when the monitor disconnects; someone else's after a crash.
        ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
    }
    slirp_exit_writer.reset();
    ::unlink(api_socket(run_root, id).c_str());
    ::unlink(ports_file(run_root, id).c_str());
    ::unlink(file.c_str());
}

} // namespace berth::engine
