// The network part of config.json and the request: a new network namespace
// for bridge and user networks (wired by the monitor between create and
// start), a path for container:NAME, none for host; and the network
// options' round trip through berth.db's JSON.
#include "berth/engine/oci_spec_builder.h"
#include "berth/engine/run_request.h"

#include <gtest/gtest.h>

using namespace berth::engine;
using nlohmann::json;

namespace {

json network_namespace(const RunRequest& request, const std::string& netns_path) {
    SpecInputs inputs;
    inputs.id = std::string(64, 'a');
    inputs.hostname = "h";
    inputs.user.home = "/root";
    inputs.netns_path = netns_path;
    berth::oci::ContainerConfig image;
    image.cmd = {"true"};
    json spec = build_oci_spec(request, image, inputs);
    for (const auto& ns : spec["linux"]["namespaces"])
        if (ns["type"] == "network") return ns;
    return nullptr;
}

TEST(NetworkSpec, NamespaceByMode) {
    RunRequest request;
    request.network = "bridge";
    EXPECT_EQ(network_namespace(request, ""), json({{"type", "network"}}));
    request.network = "mynet";
    EXPECT_EQ(network_namespace(request, ""), json({{"type", "network"}}));
    request.network = "container:db";
    EXPECT_EQ(network_namespace(request, "/proc/42/ns/net"),
              json({{"type", "network"}, {"path", "/proc/42/ns/net"}}));
    request.network = "host";
    EXPECT_TRUE(network_namespace(request, "").is_null());
}

TEST(NetworkSpec, OptionsSurviveTheDatabaseJson) {
    RunRequest request;
    request.network = "mynet";
    request.network_options.publish = {"8080:80", "53/udp"};
    request.network_options.dns = {"10.0.0.1"};
    request.network_options.add_hosts = {"db:10.1.1.1"};
    request.network_options.aliases = {"web"};
    RunRequest back = run_request_from_json(to_json(request));
    EXPECT_EQ(back.network, "mynet");
    EXPECT_EQ(back.network_options.publish, request.network_options.publish);
    EXPECT_EQ(back.network_options.dns, request.network_options.dns);
    EXPECT_EQ(back.network_options.add_hosts, request.network_options.add_hosts);
    EXPECT_EQ(back.network_options.aliases, request.network_options.aliases);
    // A record written before networks existed still reads.
    RunRequest old = run_request_from_json(json{{"image", "busybox"}, {"network", "bridge"}});
    EXPECT_TRUE(old.network_options.publish.empty());
}

} // namespace
