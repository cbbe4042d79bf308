// The network tables on a real SQLite file: address allocation is unique
// under concurrent processes, addresses come back, bad networks are refused.
#include "berth/base/error.h"
#include "berth/engine/identity.h"
#include "berth/engine/network_store.h"
#include "berth_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <set>
#include <sys/wait.h>
#include <unistd.h>

using namespace berth;
using namespace berth::engine;

namespace {

NetworkRecord network_of(const std::string& name, const std::string& subnet,
                         const std::string& gateway) {
    return {name, new_container_id(), "br-" + name, subnet, gateway, false, now_rfc3339_nano()};
}

EndpointRecord endpoint_for(const std::string& container, const std::string& network) {
    EndpointRecord endpoint;
    endpoint.container_id = container;
    endpoint.network = network;
    endpoint.interface = "eth0";
    endpoint.host_veth = "vb" + container.substr(0, 13);
    endpoint.netns_path = "/run/x/" + container;
    return endpoint;
}

TEST(NetworkStore, AddressesAreLowestFirstAndComeBack) {
    berth_test::TempDir dir("berth-network-store");
    image::Database database((dir.path() / "berth.db").string());
    NetworkStore store(database);
    store.insert_network(network_of("n1", "10.3.0.0/24", "10.3.0.1"));
    auto a = store.allocate(endpoint_for(new_container_id(), "n1"));
    auto b = store.allocate(endpoint_for(new_container_id(), "n1"));
    EXPECT_EQ(a.address, "10.3.0.2");
    EXPECT_EQ(b.address, "10.3.0.3");
    store.remove_endpoint(a.container_id, "n1");
    EXPECT_EQ(store.allocate(endpoint_for(new_container_id(), "n1")).address, "10.3.0.2");
    EXPECT_EQ(store.endpoints_on_network("n1").size(), 2u);
    EXPECT_THROW(store.allocate(endpoint_for(new_container_id(), "missing")), Error);
}

TEST(NetworkStore, FullSubnetAndBadNetworksAreRefused) {
    berth_test::TempDir dir("berth-network-store");
    image::Database database((dir.path() / "berth.db").string());
    NetworkStore store(database);
    store.insert_network(network_of("tiny", "10.4.0.0/30", "10.4.0.1"));
    EXPECT_EQ(store.allocate(endpoint_for(new_container_id(), "tiny")).address, "10.4.0.2");
    try {
        store.allocate(endpoint_for(new_container_id(), "tiny"));
        FAIL();
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("no free address"), std::string::npos);
    }
    EXPECT_THROW(store.insert_network(network_of("tiny", "10.5.0.0/24", "10.5.0.1")), Error);
    EXPECT_THROW(store.insert_network(network_of("overlap", "10.4.0.0/16", "10.4.0.1")), Error);
    EXPECT_EQ(store.networks().size(), 1u);
    // The failed allocation left no row.
    EXPECT_EQ(store.endpoints().size(), 1u);
}

TEST(NetworkStore, ConcurrentProcessesNeverShareAnAddress) {
    berth_test::TempDir dir("berth-network-store");
    std::string path = (dir.path() / "berth.db").string();
    {
        image::Database database(path);
        NetworkStore(database).insert_network(network_of("busy", "10.6.0.0/24", "10.6.0.1"));
    }
    constexpr int processes = 8, each = 10;
    std::vector<pid_t> children;
    for (int p = 0; p < processes; ++p) {
        pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            int code = 0;
            try {
                image::Database database(path);
                NetworkStore store(database);
                for (int i = 0; i < each; ++i)
                    store.allocate(endpoint_for(new_container_id(), "busy"));
            } catch (const std::exception&) {
                code = 1;
            }
            ::_exit(code);
        }
        children.push_back(child);
    }
    for (pid_t child : children) {
        int status = 0;
        ::waitpid(child, &status, 0);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    image::Database database(path);
    std::set<std::string> addresses;
    for (const auto& endpoint : NetworkStore(database).endpoints())
        addresses.insert(endpoint.address);
    EXPECT_EQ(addresses.size(), static_cast<std::size_t>(processes * each));
}

} // namespace
