#include "berth/engine/network_resolver.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/text.h"
#include "berth/engine/container_store.h"
#include "berth/network/address.h"
#include "berth/network/dns_message.h"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace berth::engine {

namespace {

std::string lock_path(const std::string& run_root, const std::string& network) {
    return run_root + "/dns/" + network + ".lock";
}

std::vector<network::Ipv4> host_resolvers() {
    std::vector<network::Ipv4> servers;
    try {
        for (const auto& line : split_lines(read_file("/etc/resolv.conf"))) {
            auto words = split_words(line);
            if (words.size() >= 2 && words[0] == "nameserver")
                if (auto address = network::parse_ipv4(words[1])) servers.push_back(*address);
        }
    } catch (const Error&) {
    }
    return servers;
}

// Asks the host's resolvers on a thread of its own, so that a slow one
// never holds up the answers for local names.
void forward(int server, std::string query, sockaddr_in client,
             std::vector<network::Ipv4> upstreams) {
    std::thread([server, query = std::move(query), client, upstreams = std::move(upstreams)] {
        for (const auto& upstream : upstreams) {
            UniqueFd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
            sockaddr_in to{};
            to.sin_family = AF_INET;
            to.sin_port = htons(53);
            to.sin_addr.s_addr = upstream.network_order();
            if (!socket ||
                ::connect(socket.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) < 0 ||
                ::send(socket.get(), query.data(), query.size(), 0) < 0)
                continue;
            pollfd ready{socket.get(), POLLIN, 0};
            if (::poll(&ready, 1, 2000) <= 0) continue;
            char answer[4096];
            ssize_t got = ::recv(socket.get(), answer, sizeof answer, 0);
            if (got <= 0) continue;
            ::sendto(server, answer, static_cast<std::size_t>(got), 0,
                     reinterpret_cast<const sockaddr*>(&client), sizeof client);
            return;
        }
    }).detach();
}

// DNS over TCP frames each message with its length (RFC 1035 4.2.2).
std::optional<std::string> read_tcp_message(int fd) {
    unsigned char length[2];
    std::size_t have = 0;
    while (have < 2) {
        ssize_t got = ::read(fd, length + have, 2 - have);
        if (got <= 0) return std::nullopt;
        have += static_cast<std::size_t>(got);
    }
    std::string message(static_cast<std::size_t>(length[0] << 8 | length[1]), '\0');
    have = 0;
    while (have < message.size()) {
        ssize_t got = ::read(fd, message.data() + have, message.size() - have);
        if (got <= 0) return std::nullopt;
        have += static_cast<std::size_t>(got);
    }
    return message;
}

bool send_tcp_message(int fd, const std::string& message) {
    if (message.size() > 0xffff) return false;
    std::string framed;
    framed += static_cast<char>(message.size() >> 8);
    framed += static_cast<char>(message.size() & 0xff);
    framed += message;
    return ::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(framed.size());
}

// The TCP form of forward(): the host's resolvers asked over TCP (the
// answer may be one too large for UDP), on a thread of its own.
void forward_tcp(UniqueFd client, std::string query, std::vector<network::Ipv4> upstreams) {
    std::thread([client = std::move(client), query = std::move(query),
                 upstreams = std::move(upstreams)] {
        for (const auto& upstream : upstreams) {
            UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
            sockaddr_in to{};
            to.sin_family = AF_INET;
            to.sin_port = htons(53);
            to.sin_addr.s_addr = upstream.network_order();
            timeval timeout{2, 0};
            ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
            ::setsockopt(socket.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
            if (!socket ||
                ::connect(socket.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) < 0 ||
                !send_tcp_message(socket.get(), query))
                continue;
            auto answer = read_tcp_message(socket.get());
            if (!answer) continue;
            send_tcp_message(client.get(), *answer);
            return;
        }
    }).detach();
}

class Resolver {
  public:
    Resolver(const std::string& root, std::string network)
        : database_(root + "/berth.db"), containers_(database_), store_(database_),
          network_(std::move(network)), upstreams_(host_resolvers()) {}

    struct Addresses {
        std::vector<network::Ipv4> v4;
        std::vector<network::Ipv6> v6;
    };
    // The addresses of `name` on the network; nullopt if no container has it.
    std::optional<Addresses> lookup(const std::string& name) {
        Addresses found;
        for (const auto& endpoint : store_.endpoints_on_network(network_)) {
            auto record = containers_.find(endpoint.container_id);
            if (!record) continue;
            bool match = name == record->name || name == record->id ||
                         (name.size() == 12 && record->id.starts_with(name));
            auto aliases = nlohmann::json::parse(endpoint.aliases_json, nullptr, false);
            if (aliases.is_array())
                for (const auto& alias : aliases)
                    if (alias.is_string() && alias.get<std::string>() == name) match = true;
            if (!match) continue;
            if (auto address = network::parse_ipv4(endpoint.address)) found.v4.push_back(*address);
            if (auto address = network::parse_ipv6(endpoint.address6)) found.v6.push_back(*address);
        }
        if (found.v4.empty()) return std::nullopt;
        return found;
    }

    std::optional<NetworkRecord> record() { return store_.find_network(network_); }

    bool network_in_use() {
        return store_.find_network(network_) && !store_.endpoints_on_network(network_).empty();
    }

    // What to do with a query from `client`: answer it (the bytes), forward
    // it to the host's resolvers, or drop it. Only the network's own
    // containers are answered: the gateway address is the host's, which
    // other networks' containers can reach too. An --internal network's
    // names resolve, nothing else does (no way out).
    struct Decision {
        enum { answer, forward, drop } action = drop;
        std::string bytes;
    };
    Decision decide(std::string_view query, network::Ipv4 client, const NetworkRecord& network,
                    const network::Subnet& subnet) {
        auto question = network::parse_dns_query(query);
        if (!question || !subnet.contains(client)) return {};
        std::optional<Addresses> local;
        if (question->klass == network::dns_class_in &&
            question->name.find('.') == std::string::npos)
            local = lookup(question->name);
        if (!local && network.internal)
            return {Decision::answer, network::build_dns_answer(query, *question, {}, false, 0)};
        if (!local) return {Decision::forward, {}};
        // A name of ours: the addresses of the type asked (none is NOERROR, empty).
        std::vector<network::Ipv4> answers;
        std::vector<network::Ipv6> answers6;
        if (question->type == network::dns_type_a) answers = local->v4;
        if (question->type == network::dns_type_aaaa) answers6 = local->v6;
        return {Decision::answer,
                network::build_dns_answer(query, *question, answers, answers6, true, 0)};
    }

    // UDP on `udp`, and TCP (RFC 7766: for a truncated reply, or a client
    // that asks so) on `tcp`, the same answers, until the network has no
    // container left.
    void serve(int udp, int tcp, const NetworkRecord& network) {
        network::Subnet subnet = network::parse_subnet(network.subnet);
        char buffer[4096];
        auto next_check = std::chrono::steady_clock::now();
        for (;;) {
            if (std::chrono::steady_clock::now() >= next_check) {
                if (!network_in_use()) return;
                next_check = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
            }
            pollfd ready[2] = {{udp, POLLIN, 0}, {tcp, POLLIN, 0}};
            if (::poll(ready, 2, 300) <= 0) continue;
            if (ready[1].revents & POLLIN) serve_tcp_client(tcp, network, subnet);
            if (!(ready[0].revents & POLLIN)) continue;
            sockaddr_in client{};
            socklen_t size = sizeof client;
            ssize_t got = ::recvfrom(udp, buffer, sizeof buffer, 0,
                                     reinterpret_cast<sockaddr*>(&client), &size);
            if (got <= 0) continue;
            std::string_view query(buffer, static_cast<std::size_t>(got));
            Decision decision =
                decide(query, network::Ipv4{ntohl(client.sin_addr.s_addr)}, network, subnet);
            if (decision.action == Decision::forward)
                forward(udp, std::string(query), client, upstreams_);
            else if (decision.action == Decision::answer)
                ::sendto(udp, decision.bytes.data(), decision.bytes.size(), 0,
                         reinterpret_cast<sockaddr*>(&client), size);
        }
    }

  private:
    // One query on a new TCP connection (a 2-byte length, then the message),
    // read with a short timeout so a silent client cannot hold up the rest.
    void serve_tcp_client(int tcp, const NetworkRecord& network, const network::Subnet& subnet) {
        sockaddr_in client{};
        socklen_t size = sizeof client;
        UniqueFd connection(
            ::accept4(tcp, reinterpret_cast<sockaddr*>(&client), &size, SOCK_CLOEXEC));
        if (!connection) return;
        timeval timeout{1, 0};
        ::setsockopt(connection.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        ::setsockopt(connection.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
        auto query = read_tcp_message(connection.get());
        if (!query) return;
        Decision decision =
            decide(*query, network::Ipv4{ntohl(client.sin_addr.s_addr)}, network, subnet);
        if (decision.action == Decision::answer)
            send_tcp_message(connection.get(), decision.bytes);
        else if (decision.action == Decision::forward)
            forward_tcp(std::move(connection), std::move(*query), upstreams_);
    }

    image::Database database_;
    ContainerStore containers_;
    NetworkStore store_;
    std::string network_;
    std::vector<network::Ipv4> upstreams_;
};

void signal_ready(int& ready_fd) {
    if (ready_fd < 0) return;
    (void)!::write(ready_fd, "r", 1);
    ::close(ready_fd);
    ready_fd = -1;
}

} // namespace

int run_network_resolver(const std::string& root, const std::string& run_root,
                         const std::string& network_name, int ready_fd) {
    ::prctl(PR_SET_NAME, "berth-resolver");
    make_directories(run_root + "/dns", 0700);
    UniqueFd lock = open_fd(lock_path(run_root, network_name), O_RDWR | O_CREAT, 0600);
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) < 0) {
        signal_ready(ready_fd); // another one serves
        return 0;
    }
    Resolver resolver(root, network_name);
    auto network = resolver.record();
    if (!network) fail("network " + network_name + " not found");
    UniqueFd server(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!server) throw_errno("opening the resolver's socket");
    int one = 1;
    ::setsockopt(server.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(53);
    address.sin_addr.s_addr = network::parse_ipv4(network->gateway)->network_order();
    int bound = -1;
    // The gateway address may still be on its way onto the bridge.
    for (int attempt = 0; attempt < 100 && bound < 0; ++attempt) {
        bound = ::bind(server.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
        if (bound < 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (bound < 0) throw_errno("listening on " + network->gateway + ":53");
    // TCP on the same address, once it is there.
    UniqueFd tcp_server(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!tcp_server) throw_errno("opening the resolver's TCP socket");
    ::setsockopt(tcp_server.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(tcp_server.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0 ||
        ::listen(tcp_server.get(), 64) < 0)
        throw_errno("listening on " + network->gateway + ":53 (TCP)");
    signal_ready(ready_fd);
    resolver.serve(server.get(), tcp_server.get(), *network);
    return 0;
}

void ensure_network_resolver(const std::string& root, const std::string& run_root,
                             const NetworkRecord& network) {
    // Its address is the host's bridge's: macvlan and ipvlan networks have
    // none on the host, so no resolver (their containers use the host's).
    if (network.driver != "bridge") return;
    make_directories(run_root + "/dns", 0700);
    {
        // Held by a running resolver: nothing to do (the common case, no fork).
        UniqueFd lock = open_fd(lock_path(run_root, network.name), O_RDWR | O_CREAT, 0600);
        if (::flock(lock.get(), LOCK_EX | LOCK_NB) < 0) return;
    }
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) < 0) throw_errno("starting the network's resolver");
    UniqueFd ready_read(ready[0]), ready_write(ready[1]);
    pid_t child = ::fork();
    if (child < 0) throw_errno("starting the network's resolver");
    if (child == 0) {
        ::setsid();
        if (::fork() != 0) ::_exit(0);
        if (ready_write.get() == 3)
            ::fcntl(3, F_SETFD, 0);
        else
            ::dup2(ready_write.get(), 3);
        int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        ::dup2(devnull, 0);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
        ::signal(SIGPIPE, SIG_IGN);
        const char* args[] = {
            "berth-resolver", "--root",    root.c_str(),         "network-resolver", "--run-root",
            run_root.c_str(), "--network", network.name.c_str(), "--ready-fd",       "3",
            nullptr};
        ::execv("/proc/self/exe", const_cast<char* const*>(args));
        ::_exit(127);
    }
    ready_write.reset();
    int status;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    pollfd readable{ready_read.get(), POLLIN, 0};
    char byte;
    if (::poll(&readable, 1, 3000) <= 0 || ::read(ready_read.get(), &byte, 1) != 1)
        fail("the resolver of network " + network.name + " did not start");
}

} // namespace berth::engine
