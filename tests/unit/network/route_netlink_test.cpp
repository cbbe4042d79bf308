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
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
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
