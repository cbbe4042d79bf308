// The netlink requests against the real kernel, inside two network
// namespaces made for the test ("host" and "container"), so the machine's
// own links are never touched. Root only.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/network/netns.h"
#include "berth/network/route_netlink.h"
#include "berth_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <sched.h>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace berth::network;

// Runs `body` on a thread inside the namespace `netns_fd`.
template <class Body> void inside(int netns_fd, Body body) {
    std::thread worker([&] {
        ASSERT_EQ(::setns(netns_fd, CLONE_NEWNET), 0);
        body();
    });
    worker.join();
}

// The names of the links with an IPv6 address in the namespace `netns_fd`.
std::string links_with_ipv6(int netns_fd) {
    std::string found;
    inside(netns_fd, [&] {
        // thread-self: /proc/self/net is the main thread's namespace.
        std::ifstream table("/proc/thread-self/net/if_inet6");
        std::string line;
        while (std::getline(table, line)) {
            std::istringstream fields(line);
            std::string address, index, prefix, scope, flags, name;
            fields >> address >> index >> prefix >> scope >> flags >> name;
            if (name != "lo") found += name + " ";
        }
    });
    return found;
}

class RouteNetlinkTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root";
        host_ = create_network_namespace((dir_.path() / "host").string());
        container_ = create_network_namespace((dir_.path() / "container").string());
    }
    void TearDown() override {
        if (::geteuid() != 0) return;
        remove_network_namespace((dir_.path() / "host").string());
        remove_network_namespace((dir_.path() / "container").string());
        EXPECT_FALSE(berth::path_exists((dir_.path() / "host").string()));
    }
    berth_test::TempDir dir_{"berth-netlink-test"};
    berth::UniqueFd host_, container_;
};

TEST_F(RouteNetlinkTest, BridgeVethAddressesAndRouteCarryTcp) {
    RouteNetlink host(host_.get());
    EXPECT_GT(host.link_index("lo"), 0);
    EXPECT_EQ(host.link_index("brtest"), 0);
    EXPECT_TRUE(host.create_bridge("brtest", 1400));
    EXPECT_FALSE(host.create_bridge("brtest", 1400)); // already there
    host.add_address("brtest", *parse_ipv4("10.77.0.1"), 24);
    host.add_address("brtest", *parse_ipv4("10.77.0.1"), 24); // again: fine
    host.create_veth("vtest0", "brtest", 1400, "eth0", container_.get());
    EXPECT_EQ(host.link_index("eth0"), 0); // the peer was born in the other namespace
    EXPECT_EQ(host.links_named("vtest"), std::vector<std::string>{"vtest0"});

    RouteNetlink container(container_.get());
    EXPECT_GT(container.link_index("eth0"), 0);
    container.add_address("eth0", *parse_ipv4("10.77.0.2"), 24);
    container.set_up("eth0");
    container.add_default_route(*parse_ipv4("10.77.0.1"));
    EXPECT_THROW(container.add_default_route(*parse_ipv4("10.77.0.1")), berth::Error);

    // A listener on the bridge's address, reached from the container side
    // through the veth, the bridge and the default route.
    int listener = -1;
    std::uint16_t port = 0;
    inside(host_.get(), [&] {
        listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = inet_addr("10.77.0.1");
        ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        ASSERT_EQ(::listen(listener, 1), 0);
        socklen_t size = sizeof address;
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size);
        port = ntohs(address.sin_port);
    });
    berth::UniqueFd listening(listener);
    inside(container_.get(), [&] {
        berth::UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = inet_addr("10.77.0.1");
        // The bridge port may take a moment to forward.
        int connected = -1;
        for (int attempt = 0; attempt < 50 && connected != 0; ++attempt) {
            connected =
                ::connect(client.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
            if (connected != 0) {
                client.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
                ::usleep(20000);
            }
        }
        EXPECT_EQ(connected, 0) << "connecting through the veth: " << strerror(errno);
    });

    EXPECT_TRUE(host.delete_link("vtest0"));
    EXPECT_FALSE(host.delete_link("vtest0"));
    EXPECT_EQ(container.link_index("eth0"), 0); // gone with its peer
    EXPECT_TRUE(host.delete_link("brtest"));
}

// Without autoconfiguration a veth comes up with no link-local address
// (so it multicasts no DAD, router solicitation or MLD report to the
// bridge's other ports); a veth left alone gets one on either end.
TEST_F(RouteNetlinkTest, StoppedIpv6AutoconfigurationLeavesBothEndsWithoutAddresses) {
    RouteNetlink host(host_.get());
    RouteNetlink container(container_.get());
    ASSERT_TRUE(host.create_bridge("brquiet", 0));
    host.create_veth("vquiet0", "brquiet", 0, "eth0", container_.get());
    host.stop_ipv6_autoconfiguration("vquiet0");
    container.stop_ipv6_autoconfiguration("eth0");
    container.set_up("eth0");
    host.create_veth("vloud0", "brquiet", 0, "eth1", container_.get());
    container.set_up("eth1");
    std::string in_container, in_host;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < deadline &&
           (in_container.find("eth1") == std::string::npos ||
            in_host.find("vloud0") == std::string::npos)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        in_container = links_with_ipv6(container_.get());
        in_host = links_with_ipv6(host_.get());
    }
    EXPECT_NE(in_container.find("eth1"), std::string::npos) << in_container;
    EXPECT_NE(in_host.find("vloud0"), std::string::npos) << in_host;
    EXPECT_EQ(in_container.find("eth0"), std::string::npos) << in_container;
    EXPECT_EQ(in_host.find("vquiet0"), std::string::npos) << in_host;
    EXPECT_THROW(host.stop_ipv6_autoconfiguration("vnothere"), berth::Error);
}

TEST_F(RouteNetlinkTest, ErrorsNameWhatFailed) {
    RouteNetlink host(host_.get());
    try {
        host.create_veth("vbad", "nobridge", 0, "eth0", container_.get());
        FAIL();
    } catch (const berth::Error& error) {
        EXPECT_NE(std::string(error.what()).find("nobridge"), std::string::npos);
    }
    try {
        host.add_address("nolink", *parse_ipv4("10.1.1.1"), 24);
        FAIL();
    } catch (const berth::Error& error) {
        EXPECT_NE(std::string(error.what()).find("nolink"), std::string::npos);
    }
}

TEST_F(RouteNetlinkTest, NamespaceFileCannotBeMadeTwice) {
    EXPECT_THROW(create_network_namespace((dir_.path() / "host").string()), berth::Error);
    remove_network_namespace((dir_.path() / "never-made").string());
}

} // namespace
