// Many containers on one bridge: each is wired alone (no IPv6
// autoconfiguration multicast that every other port would get, no mount
// that every later container's mount namespace would copy, no work on the
// other containers' state at its start) and leaves nothing at rm.
#include "network_fixture.hpp"

namespace {

class NetworkDensityTest : public NetworkTest {};

// The link's IPv6 addresses as `ip -6 -o addr` lists them ("" for none).
std::string ipv6_addresses_of_host_link(const std::string& link) {
    return trim(run_command({"ip", "-6", "-o", "addr", "show", "dev", link}).out);
}

std::string host_veth_of(const std::string& id) {
    auto links = host_links_starting("vb" + id.substr(0, 9));
    return links.size() == 1 ? links.front() : "";
}

TEST_F(NetworkDensityTest, ThirtyContainersOnTheBridgeAreEachWiredAndLeaveNothing) {
    constexpr int count = 30;
    std::vector<std::string> ids(count);
    std::vector<std::thread> starters;
    for (int group = 0; group < 4; ++group)
        starters.emplace_back([&, group] {
            for (int i = group; i < count; i += 4) {
                std::vector<std::string> args = {"--name", "d" + std::to_string(i)};
                // Every tenth publishes a port: a table of its own to remove.
                if (i % 10 == 0) args.insert(args.end(), {"-p", "80"});
                args.insert(args.end(), {"busybox", "sleep", "120"});
                ids[i] = run_detached(args);
            }
        });
    for (auto& starter : starters)
        starter.join();
    json endpoints = endpoints_on("bridge");
    ASSERT_EQ(endpoints.size(), static_cast<std::size_t>(count));
    std::set<std::string> ports_of_bridge;
    for (const auto& entry : fs::directory_iterator("/sys/class/net/" + bridge_ + "/brif"))
        ports_of_bridge.insert(entry.path().filename());
    for (int i = 0; i < count; ++i) {
        ASSERT_EQ(ids[i].size(), 64u) << "container " << i;
        std::string name = "d" + std::to_string(i);
        // Its own address on eth0, and no IPv6 one (the default network has
        // none): no link-local address, so no DAD, router solicitation or
        // MLD report flooded to the 29 other ports when it came up.
        CommandResult shown = berth({"exec", name, "ip", "addr", "show", "eth0"});
        ASSERT_EQ(shown.exit_code, 0) << shown;
        EXPECT_NE(shown.out.find("inet " + address_of("bridge", name) + "/24"), std::string::npos)
            << shown.out;
        EXPECT_EQ(shown.out.find("inet6"), std::string::npos) << name << ": " << shown.out;
        // The host end: a port of the bridge, no IPv6 address (no route per
        // container in the host's table).
        std::string veth = host_veth_of(ids[i]);
        ASSERT_FALSE(veth.empty()) << name;
        EXPECT_TRUE(ports_of_bridge.contains(veth)) << veth;
        EXPECT_EQ(ipv6_addresses_of_host_link(veth), "") << veth;
    }
    // No mount per container in the host's mount namespace (each later
    // container's new mount namespace would copy them all).
    std::string netns_dir = (dir_->path() / "run" / "netns").string();
    EXPECT_EQ(read_text("/proc/self/mountinfo").find(netns_dir), std::string::npos);
    EXPECT_EQ(netns_files().size(), static_cast<std::size_t>(count));
    // A published port's table per publishing container, and only theirs.
    EXPECT_EQ(container_tables().size(), 3u);
    std::vector<std::string> removal = {"rm", "-f"};
    removal.insert(removal.end(), ids.begin(), ids.end());
    CommandResult removed = berth(removal, 120000);
    EXPECT_EQ(removed.exit_code, 0) << removed;
    // The veths go with their namespaces, in the kernel's background.
    for (int i = 0; i < 200 && !our_veths().empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_TRUE(our_veths().empty());
    EXPECT_TRUE(container_tables().empty());
    EXPECT_TRUE(netns_files().empty());
    EXPECT_TRUE(endpoints_on("bridge").empty());
}

// A start reads no other container's state (a thousand on the bridge would
// each cost it a /proc read): what a killed monitor left stays until a
// listing, or until it stands in a start's way, when that start sweeps it.
TEST_F(NetworkDensityTest, AStartSweepsWhatAKilledMonitorLeftOnlyWhenItIsInTheWay) {
    int port = 20000 + ::getpid() % 20000;
    std::string published = std::to_string(port) + ":80";
    std::string victim =
        run_detached({"--name", "victim", "-p", published, "busybox", "sleep", "60"});
    ASSERT_EQ(victim.size(), 64u);
    auto monitors = children_named("berth-monitor");
    ASSERT_EQ(monitors.size(), 1u);
    ::kill(monitors.front(), SIGKILL);
    reap_zombies();
    auto has_netns_file = [](const std::string& id) {
        auto files = netns_files();
        return std::find(files.begin(), files.end(), id) != files.end();
    };
    // A start with nothing in its way leaves the dead container's network be.
    std::string bystander = run_detached({"--name", "bystander", "busybox", "sleep", "60"});
    ASSERT_EQ(bystander.size(), 64u);
    EXPECT_TRUE(has_netns_file(victim));
    EXPECT_FALSE(host_veth_of(victim).empty());
    // The victim's host port is in this one's way: the start sweeps, then succeeds.
    std::string heir = run_detached({"--name", "heir", "-p", published, "busybox", "sleep", "60"});
    ASSERT_EQ(heir.size(), 64u);
    EXPECT_FALSE(has_netns_file(victim));
    json endpoints = endpoints_on("bridge");
    EXPECT_FALSE(endpoints.contains(victim)) << endpoints.dump();
    EXPECT_TRUE(endpoints.contains(heir)) << endpoints.dump();
    CommandResult port_of = berth({"port", "heir"});
    EXPECT_NE(port_of.out.find(":" + std::to_string(port)), std::string::npos) << port_of;
    berth({"rm", "-f", "victim", "bystander", "heir"});
    // The victim's init outlived its monitor: this process (the subreaper) ends it.
    reap_zombies();
    for (pid_t child : children_named(""))
        ::kill(child, SIGKILL);
    reap_zombies();
}

} // namespace
