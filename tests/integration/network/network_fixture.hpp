// The fixture of the network tests: a private root with the busybox image, a
// default network with a bridge and subnet of its own, and leak checks.
#pragma once

#include "berth_test/berth_cli.hpp"
#include "berth_test/children.hpp"
#include "berth_test/run_command.hpp"
#include "berth_test/temp_dir.hpp"
#include "berth_test/text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <set>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using berth_test::children_named;
using berth_test::CommandResult;
using berth_test::lines_of;
using berth_test::read_text;
using berth_test::reap_zombies;
using berth_test::run_command;
using berth_test::trim;
using nlohmann::json;

// Resolvers serving networks of the berth root `root`, wherever they hang.
inline std::vector<pid_t> resolvers_of(const std::string& root) {
    std::vector<pid_t> pids;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        pid_t pid = std::atoi(entry.path().filename().c_str());
        if (pid <= 0 || trim(read_text(entry.path() / "comm")) != "berth-resolver") continue;
        std::string stat = read_text(entry.path() / "stat");
        auto close = stat.rfind(')');
        if (close != std::string::npos && stat.size() > close + 2 && stat[close + 2] == 'Z')
            continue;
        std::string command = read_text(entry.path() / "cmdline");
        if (command.find(root) != std::string::npos) pids.push_back(pid);
    }
    return pids;
}

inline std::vector<std::string> host_links_starting(const std::string& prefix) {
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator("/sys/class/net"))
        if (entry.path().filename().string().starts_with(prefix))
            found.push_back(entry.path().filename());
    return found;
}

// Connects `fd` to `to`, sends `request`, returns what came back ("" if
// the connection failed), and closes `fd`.
inline std::string exchange_over(int fd, const sockaddr* to, socklen_t size,
                                 const std::string& request) {
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string reply;
    if (::connect(fd, to, size) == 0) {
        (void)!::write(fd, request.data(), request.size());
        char buffer[4096];
        ssize_t got;
        while ((got = ::read(fd, buffer, sizeof buffer)) > 0)
            reply.append(buffer, static_cast<std::size_t>(got));
    }
    ::close(fd);
    return reply;
}

// A TCP exchange from the test (the host): connects, sends `request`,
// returns what came back ("" if the connection failed).
inline std::string tcp_exchange(const std::string& address, int port, const std::string& request) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    to.sin_addr.s_addr = inet_addr(address.c_str());
    return exchange_over(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0),
                         reinterpret_cast<sockaddr*>(&to), sizeof to, request);
}

// The same over IPv6 ("[addr]:port").
inline std::string tcp_exchange6(const std::string& address, int port, const std::string& request) {
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET6, address.c_str(), &to.sin6_addr);
    return exchange_over(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0),
                         reinterpret_cast<sockaddr*>(&to), sizeof to, request);
}

class NetworkTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new berth_test::TempDir("berth-network-test");
        berth_test::isolate_berth_suite(dir_->path() / "run", BERTH_SECCOMP_DEFAULT_PROFILE);
        int tag = ::getpid() % 200 + 20;
        bridge_ = "bnt" + std::to_string(::getpid());
        subnet_prefix_ = "10.213." + std::to_string(tag) + ".";
        ::setenv("BERTH_BRIDGE", bridge_.c_str(), 1);
        ::setenv("BERTH_BRIDGE_SUBNET", (subnet_prefix_ + "0/24").c_str(), 1);
        CommandResult made =
            berth_test::make_busybox_image(BERTH_MAKE_BUSYBOX_IMAGE, BERTH_PATH, root());
        ASSERT_EQ(made.exit_code, 0) << made;
    }

    static void TearDownTestSuite() {
        berth_test::remove_all_containers(BERTH_PATH, root());
        berth({"network", "prune", "-f"});
        // The default network's bridge stays, as docker0 does: ours goes here.
        run_command({"nft", "delete", "table", "ip", "berth-" + bridge_});
        run_command({"ip", "link", "del", bridge_});
        reap_zombies();
        delete dir_;
        dir_ = nullptr;
    }

    void TearDown() override {
        berth_test::remove_all_containers(BERTH_PATH, root());
        EXPECT_TRUE(nothing_left()) << "a test left network pieces behind";
    }

    // No endpoint, veth, netns file, container table or process of ours.
    static bool nothing_left() {
        for (int i = 0; i < 200; ++i) {
            reap_zombies();
            bool clean = children_named("").empty() && netns_files().empty() &&
                         endpoints_on("bridge").empty() && our_veths().empty() &&
                         container_tables().empty();
            if (clean) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ADD_FAILURE() << "children " << children_named("").size() << ", netns files "
                      << netns_files().size() << ", endpoints " << endpoints_on("bridge").size()
                      << ", veths " << our_veths().size() << ", tables "
                      << container_tables().size();
        return false;
    }

    static std::vector<std::string> netns_files() {
        std::vector<std::string> files;
        std::error_code ignored;
        for (const auto& entry : fs::directory_iterator(dir_->path() / "run" / "netns", ignored))
            files.push_back(entry.path().filename());
        return files;
    }

    // Host veths of containers this suite made (their names start with
    // "vb" and 9 characters of the id).
    static std::vector<std::string> our_veths() {
        std::vector<std::string> found;
        for (const auto& id : ids_seen_)
            for (const auto& link : host_links_starting("vb" + id.substr(0, 9)))
                found.push_back(link);
        return found;
    }

    static std::vector<std::string> container_tables() {
        std::vector<std::string> found;
        CommandResult tables = run_command({"nft", "list", "tables"});
        for (const auto& id : ids_seen_)
            if (tables.out.find("berth-c-" + id.substr(0, 16)) != std::string::npos)
                found.push_back(id);
        return found;
    }

    static json endpoints_on(const std::string& network) {
        CommandResult inspected = berth({"network", "inspect", network});
        if (inspected.exit_code != 0) return json::object();
        return json::parse(inspected.out)[0]["Containers"];
    }

    static std::string address_of(const std::string& network, const std::string& name) {
        json endpoints = endpoints_on(network);
        for (auto it = endpoints.begin(); it != endpoints.end(); ++it)
            if (it.value().value("Name", "") == name) {
                const json& endpoint = it.value();
                std::string address = endpoint["IPv4Address"];
                return address.substr(0, address.find('/'));
            }
        return "";
    }

    static fs::path root() { return dir_->path() / "root"; }

    static CommandResult berth(std::vector<std::string> args, int timeout_ms = 60000) {
        return berth_test::run_berth(BERTH_PATH, root(), std::move(args), {}, timeout_ms);
    }

    // `berth run -d ARGS`; remembers the id for the leak checks.
    static std::string run_detached(std::vector<std::string> args) {
        args.insert(args.begin(), {"run", "-d"});
        CommandResult started = berth(args);
        EXPECT_EQ(started.exit_code, 0) << started;
        std::string id = trim(started.out);
        if (id.size() == 64) remember(id);
        return id;
    }

    static void remember(const std::string& id) {
        std::lock_guard lock(ids_mutex_);
        ids_seen_.insert(id);
    }

    static inline berth_test::TempDir* dir_ = nullptr;
    static inline std::string bridge_, subnet_prefix_;
    static inline std::set<std::string> ids_seen_;
    static inline std::mutex ids_mutex_;
};

} // namespace
