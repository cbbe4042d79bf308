// Networks end to end: each suite builds the busybox image into a private
// root, gives the default network a bridge and subnet of its own
// (BERTH_BRIDGE, BERTH_BRIDGE_SUBNET), and checks what containers can and
// cannot reach, and that nothing is left behind: no veth, netns file, nft
// table, endpoint row or process.

#include "network_fixture.hpp"

namespace {

TEST_F(NetworkTest, DefaultBridgeGivesAddressRouteAndHostsEntry) {
    CommandResult shown =
        berth({"run", "--rm", "--add-host", "db.local:10.9.9.9", "--dns", "10.1.1.1",
               "--dns-search", "example.test", "-h", "web1", "busybox", "sh", "-c",
               "ip -4 addr show eth0; ip route; cat /etc/hosts "
               "/etc/resolv.conf /etc/hostname"});
    ASSERT_EQ(shown.exit_code, 0) << shown;
    EXPECT_NE(shown.out.find("inet " + subnet_prefix_ + "2/24"), std::string::npos) << shown.out;
    EXPECT_NE(shown.out.find("default via " + subnet_prefix_ + "1 dev eth0"), std::string::npos)
        << shown.out;
    EXPECT_NE(shown.out.find(subnet_prefix_ + "2\tweb1"), std::string::npos) << shown.out;
    EXPECT_NE(shown.out.find("10.9.9.9\tdb.local"), std::string::npos) << shown.out;
    EXPECT_NE(shown.out.find("nameserver 10.1.1.1"), std::string::npos) << shown.out;
    EXPECT_NE(shown.out.find("search example.test"), std::string::npos) << shown.out;
    // The address came back: the next container gets it again.
    CommandResult again = berth({"run", "--rm", "busybox", "ip", "-4", "addr", "show", "eth0"});
    EXPECT_NE(again.out.find("inet " + subnet_prefix_ + "2/24"), std::string::npos) << again;
}

TEST_F(NetworkTest, StoppedContainerGetsItsNetworkBackOnStart) {
    std::string id = run_detached({"--name", "again", "-p", "80", "busybox", "sleep", "60"});
    std::string first = address_of("bridge", "again");
    ASSERT_FALSE(first.empty());
    ASSERT_EQ(berth({"stop", "-t", "0", "again"}).exit_code, 0);
    // Stopped: its address, netns file and rules are gone.
    EXPECT_TRUE(endpoints_on("bridge").empty());
    EXPECT_TRUE(netns_files().empty());
    EXPECT_TRUE(container_tables().empty());
    ASSERT_EQ(berth({"start", "again"}).exit_code, 0);
    CommandResult shown = berth({"exec", "again", "ip", "-4", "addr", "show", "eth0"});
    EXPECT_NE(shown.out.find("inet " + address_of("bridge", "again") + "/24"), std::string::npos)
        << shown;
    EXPECT_EQ(lines_of(berth({"port", "again"}).out).size(), 1u);
    // One line for its own address, not one per start.
    CommandResult hosts = berth({"exec", "again", "cat", "/etc/hosts"});
    EXPECT_EQ(lines_of(hosts.out).size(), 7u) << hosts.out;
}

TEST_F(NetworkTest, NoneAndHostModes) {
    CommandResult none = berth({"run", "--rm", "--network", "none", "busybox", "ip", "link"});
    ASSERT_EQ(none.exit_code, 0) << none;
    EXPECT_EQ(none.out.find("eth0"), std::string::npos) << none.out;
    // Its loopback is up, as with docker's none: a server on 127.0.0.1 works.
    EXPECT_NE(none.out.find("lo: <LOOPBACK,UP"), std::string::npos) << none.out;
    // A namespace of its own (made ahead by its monitor), not the host's.
    CommandResult own =
        berth({"run", "--rm", "--network", "none", "busybox", "readlink", "/proc/self/ns/net"});
    ASSERT_EQ(own.exit_code, 0) << own;
    EXPECT_NE(trim(own.out), fs::read_symlink("/proc/self/ns/net").string());
    // The host's own links: every one there before and after (others come
    // and go as other tests run).
    auto host_links = [] {
        std::set<std::string> links;
        for (const auto& entry : fs::directory_iterator("/sys/class/net"))
            links.insert(entry.path().filename());
        return links;
    };
    std::set<std::string> before = host_links();
    CommandResult host =
        berth({"run", "--rm", "--network", "host", "busybox", "ls", "-1", "/sys/class/net"});
    EXPECT_EQ(host.exit_code, 0) << host;
    std::set<std::string> after = host_links(), inside;
    for (const auto& line : lines_of(host.out))
        inside.insert(line);
    for (const auto& link : before)
        if (after.contains(link)) {
            EXPECT_TRUE(inside.contains(link)) << link;
        }
    EXPECT_GT(inside.size(), 1u);
    CommandResult bad = berth({"run", "--rm", "--network", "nosuchnet", "busybox", "true"});
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE(bad.err.find("network nosuchnet not found"), std::string::npos) << bad;
    CommandResult bad_port = berth({"run", "--rm", "-p", "99999:80", "busybox", "true"});
    EXPECT_NE(bad_port.exit_code, 0);
    EXPECT_NE(bad_port.err.find("invalid port"), std::string::npos) << bad_port;
}

TEST_F(NetworkTest, PublishedPortIsReachableFromHostLoopbackAndFromContainers) {
    std::string id =
        run_detached({"--name", "web", "-p", "80", "-p", "127.0.0.1::81", "busybox", "sh", "-c",
                      "echo hello-from-web > /tmp/index.html; "
                      "httpd -p 81 -h /tmp; exec httpd -f -p 80 -h /tmp"});
    CommandResult ports = berth({"port", "web"});
    ASSERT_EQ(ports.exit_code, 0) << ports;
    auto lines = lines_of(ports.out);
    ASSERT_EQ(lines.size(), 2u) << ports.out;
    EXPECT_TRUE(lines[0].starts_with("80/tcp -> 0.0.0.0:")) << lines[0];
    EXPECT_TRUE(lines[1].starts_with("81/tcp -> 127.0.0.1:")) << lines[1];
    int port = std::atoi(lines[0].substr(lines[0].rfind(':') + 1).c_str());
    EXPECT_NE(berth({"ps"}).out.find("0.0.0.0:" + std::to_string(port) + "->80/tcp"),
              std::string::npos);
    // A host port is published once.
    CommandResult taken = berth({"run", "-d", "--name", "clash", "-p", std::to_string(port) + ":80",
                                 "busybox", "sleep", "60"});
    EXPECT_NE(taken.exit_code, 0);
    EXPECT_NE(taken.err.find("port is already allocated"), std::string::npos) << taken;
    EXPECT_EQ(berth({"rm", "-f", "clash"}).exit_code, 0);
    // The failed start left no attach socket: only web's is there.
    std::size_t sockets = 0;
    for (const auto& entry : fs::directory_iterator(dir_->path() / "run" / "attach"))
        sockets += entry.path().filename().string() == id.substr(0, 16) ? 0 : 1;
    EXPECT_EQ(sockets, 0u);
    CommandResult inspected = berth({"inspect", "web"});
    json settings = json::parse(inspected.out)[0]["NetworkSettings"];
    EXPECT_EQ(settings["IPAddress"], address_of("bridge", "web"));
    EXPECT_EQ(settings["Ports"]["80/tcp"][0]["HostPort"], std::to_string(port));
    int local_port = std::atoi(lines[1].substr(lines[1].rfind(':') + 1).c_str());
    std::string reply;
    for (int i = 0; i < 50 && reply.empty(); ++i) {
        reply = tcp_exchange("127.0.0.1", port, "GET /index.html HTTP/1.0\r\n\r\n");
        if (reply.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_NE(reply.find("hello-from-web"), std::string::npos) << reply;
    EXPECT_NE(tcp_exchange("127.0.0.1", local_port, "GET /index.html HTTP/1.0\r\n\r\n")
                  .find("hello-from-web"),
              std::string::npos);
    // From another container: directly, and through the gateway's published port (hairpin).
    CommandResult direct = berth({"run", "--rm", "busybox", "wget", "-qO-",
                                  "http://" + address_of("bridge", "web") + "/index.html"});
    EXPECT_NE(direct.out.find("hello-from-web"), std::string::npos) << direct;
    CommandResult hairpin =
        berth({"run", "--rm", "busybox", "wget", "-qO-",
               "http://" + subnet_prefix_ + "1:" + std::to_string(port) + "/index.html"});
    EXPECT_NE(hairpin.out.find("hello-from-web"), std::string::npos) << hairpin;
    EXPECT_EQ(berth({"rm", "-f", "web"}).exit_code, 0);
    // The rule went with the container.
    EXPECT_EQ(tcp_exchange("127.0.0.1", port, "GET / HTTP/1.0\r\n\r\n"), "");
}

// -p 8000-8002:80-82: three ports, each reachable; a bad range is one line,
// 125, and no container.
TEST_F(NetworkTest, PortRangesPublishOnePortEach) {
    int first = 20000 + ::getpid() % 20000;
    std::string range = std::to_string(first) + "-" + std::to_string(first + 2);
    run_detached({"--name", "ranged", "-p", "127.0.0.1:" + range + ":7000-7002", "busybox", "sh",
                  "-c",
                  "for p in 7000 7001 7002; do (while true; do echo port-$p | nc -l -p $p; done) "
                  "& done; wait"});
    CommandResult ports = berth({"port", "ranged"});
    EXPECT_EQ(lines_of(ports.out).size(), 3u) << ports;
    for (int i = 0; i < 3; ++i) {
        std::string reply;
        for (int attempt = 0; attempt < 50 && reply.empty(); ++attempt) {
            reply = tcp_exchange("127.0.0.1", first + i, "");
            if (reply.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        EXPECT_EQ(trim(reply), "port-" + std::to_string(7000 + i));
    }
    EXPECT_EQ(berth({"rm", "-f", "ranged"}).exit_code, 0);
    for (const char* bad : {"8000-8001:80-82", "90-80", "8000-8001:80"}) {
        CommandResult failed = berth({"run", "--rm", "-p", bad, "busybox", "true"});
        EXPECT_EQ(failed.exit_code, 125) << failed;
        EXPECT_EQ(lines_of(failed.err).size(), 1u) << failed.err;
    }
    EXPECT_TRUE(lines_of(berth({"ps", "-aq"}).out).empty());
}

// network inspect --format, as docker's: one rendered line per network.
TEST_F(NetworkTest, NetworkInspectFormat) {
    std::string tag = std::to_string(::getpid() % 200 + 20);
    ASSERT_EQ(berth({"network", "create", "--subnet", "10.220." + tag + ".0/24", "--internal",
                     "formatted"})
                  .exit_code,
              0);
    CommandResult shown =
        berth({"network", "inspect", "--format",
               "{{.Name}} {{.Driver}} {{.Internal}} {{json .IPAM.Config}}", "formatted"});
    ASSERT_EQ(shown.exit_code, 0) << shown;
    EXPECT_EQ(trim(shown.out), "formatted bridge true [{\"Gateway\":\"10.220." + tag +
                                   ".1\",\"Subnet\":\"10.220." + tag + ".0/24\"}]");
    CommandResult driver = berth({"network", "create", "-d", "overlay", "other"});
    EXPECT_NE(driver.exit_code, 0);
    EXPECT_NE(driver.err.find("network driver overlay is not supported"), std::string::npos)
        << driver;
    EXPECT_EQ(berth({"network", "inspect", "other"}).exit_code, 1);
    EXPECT_EQ(berth({"network", "rm", "formatted"}).exit_code, 0);
}

TEST_F(NetworkTest, NetworksAreIsolatedAndInternalHasNoWayOut) {
    std::string tag = std::to_string(::getpid() % 200 + 20);
    ASSERT_EQ(berth({"network", "create", "--subnet", "10.214." + tag + ".0/24", "neta"}).exit_code,
              0);
    ASSERT_EQ(berth({"network", "create", "--subnet", "10.215." + tag + ".0/24", "netb"}).exit_code,
              0);
    ASSERT_EQ(berth({"network", "create", "--internal", "inner"}).exit_code, 0);
    EXPECT_NE(
        berth({"network", "create", "--subnet", "10.214." + tag + ".0/25", "overlap"}).exit_code,
        0);
    run_detached({"--name", "a1", "--network", "neta", "busybox", "sh", "-c",
                  "while true; do nc -l -p 7000 -e echo pong; done"});
    std::string a1 = address_of("neta", "a1");
    ASSERT_EQ(a1, "10.214." + tag + ".2");
    auto talk = [&](const std::string& network) {
        return berth({"run", "--rm", "--network", network, "busybox", "sh", "-c",
                      "echo ping | nc -w 2 " + a1 + " 7000"});
    };
    CommandResult same = talk("neta");
    EXPECT_NE(same.out.find("pong"), std::string::npos) << same;
    CommandResult other = talk("netb");
    EXPECT_EQ(other.out.find("pong"), std::string::npos) << other;
    CommandResult default_network = talk("bridge");
    EXPECT_EQ(default_network.out.find("pong"), std::string::npos) << default_network;
    // Connected to neta as well, b's container reaches it.
    run_detached({"--name", "b1", "--network", "netb", "busybox", "sleep", "60"});
    ASSERT_EQ(berth({"network", "connect", "neta", "b1"}).exit_code, 0);
    CommandResult joined = berth({"exec", "b1", "sh", "-c", "echo ping | nc -w 2 " + a1 + " 7000"});
    EXPECT_NE(joined.out.find("pong"), std::string::npos) << joined;
    // Kept across a restart, as Docker does.
    ASSERT_EQ(berth({"stop", "-t", "0", "b1"}).exit_code, 0);
    ASSERT_EQ(berth({"start", "b1"}).exit_code, 0);
    CommandResult rejoined =
        berth({"exec", "b1", "sh", "-c", "echo ping | nc -w 2 " + a1 + " 7000"});
    EXPECT_NE(rejoined.out.find("pong"), std::string::npos) << rejoined;
    ASSERT_EQ(berth({"network", "disconnect", "neta", "b1"}).exit_code, 0);
    EXPECT_NE(berth({"exec", "b1", "ip", "link", "show", "eth1"}).exit_code, 0);
    // Internal: its containers talk to each other, nothing goes out.
    run_detached({"--name", "i1", "--network", "inner", "busybox", "sh", "-c",
                  "while true; do nc -l -p 7000 -e echo inside; done"});
    CommandResult inside = berth({"run", "--rm", "--network", "inner", "busybox", "sh", "-c",
                                  "echo x | nc -w 2 " + address_of("inner", "i1") + " 7000"});
    EXPECT_NE(inside.out.find("inside"), std::string::npos) << inside;
    CommandResult out = berth({"run", "--rm", "--network", "inner", "busybox", "sh", "-c",
                               "echo ping | nc -w 2 " + a1 + " 7000"});
    EXPECT_EQ(out.out.find("pong"), std::string::npos) << out;
    CommandResult busy = berth({"network", "rm", "neta"});
    EXPECT_NE(busy.exit_code, 0);
    EXPECT_NE(busy.err.find("active endpoints"), std::string::npos) << busy;
    for (const char* name : {"a1", "b1", "i1"})
        berth({"rm", "-f", name});
    CommandResult pruned = berth({"network", "prune", "-f"});
    EXPECT_NE(pruned.out.find("inner"), std::string::npos) << pruned;
    EXPECT_EQ(lines_of(berth({"network", "ls", "-q"}).out), std::vector<std::string>{"bridge"});
    EXPECT_TRUE(host_links_starting("br-").empty() ||
                run_command({"nft", "list", "tables"}).out.find("berth-br-") == std::string::npos);
}

TEST_F(NetworkTest, TwoContainersTalkByNameOverAUserNetwork) {
    std::string tag = std::to_string(::getpid() % 200 + 20);
    ASSERT_EQ(berth({"network", "create", "--subnet", "10.217." + tag + ".0/24", "talk"}).exit_code,
              0);
    ASSERT_EQ(
        berth({"network", "create", "--subnet", "10.218." + tag + ".0/24", "elsewhere"}).exit_code,
        0);
    run_detached({"--name", "server", "--network", "talk", "--network-alias", "db", "busybox", "sh",
                  "-c", "while true; do nc -l -p 7000 -e echo pong; done"});
    // The network's resolver serves its containers' names.
    EXPECT_EQ(resolvers_of(root().string()).size(), 1u);
    for (const char* name : {"server", "db"}) {
        CommandResult client = berth({"run", "--rm", "--network", "talk", "busybox", "sh", "-c",
                                      std::string("echo hi | nc -w 3 ") + name + " 7000"});
        EXPECT_NE(client.out.find("pong"), std::string::npos) << name << ": " << client;
    }
    CommandResult looked_up =
        berth({"run", "--rm", "--network", "talk", "busybox", "nslookup", "server"});
    EXPECT_NE(looked_up.out.find(address_of("talk", "server")), std::string::npos) << looked_up;
    // Another network's containers do not see the name.
    CommandResult stranger =
        berth({"run", "--rm", "--network", "elsewhere", "busybox", "nslookup", "server"});
    EXPECT_EQ(stranger.out.find(address_of("talk", "server")), std::string::npos) << stranger;
    EXPECT_EQ(berth({"rm", "-f", "server"}).exit_code, 0);
    // With the last container, the resolver goes.
    bool resolver_gone = false;
    for (int i = 0; i < 100 && !resolver_gone; ++i) {
        reap_zombies();
        resolver_gone = resolvers_of(root().string()).empty();
        if (!resolver_gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(resolver_gone);
    EXPECT_EQ(berth({"network", "rm", "talk", "elsewhere"}).exit_code, 0);
}

TEST_F(NetworkTest, FiftyContainersStartedAtOnceGetDistinctAddresses) {
    ASSERT_EQ(berth({"network", "create", "--subnet",
                     "10.216." + std::to_string(::getpid() % 200 + 20) + ".0/24", "crowd"})
                  .exit_code,
              0);
    constexpr int count = 50;
    std::vector<std::thread> starters;
    std::vector<CommandResult> results(count);
    for (int i = 0; i < count; ++i)
        starters.emplace_back([&, i] {
            results[i] = berth({"run", "-d", "--network", "crowd", "--name",
                                "c" + std::to_string(i), "busybox", "sleep", "120"},
                               120000);
            if (trim(results[i].out).size() == 64) remember(trim(results[i].out));
        });
    for (auto& starter : starters)
        starter.join();
    for (const auto& result : results)
        EXPECT_EQ(result.exit_code, 0) << result;
    std::set<std::string> addresses;
    json endpoints = endpoints_on("crowd");
    for (auto it = endpoints.begin(); it != endpoints.end(); ++it)
        addresses.insert(it.value().value("IPv4Address", ""));
    EXPECT_EQ(addresses.size(), static_cast<std::size_t>(count));
    // Each container really has the address berth recorded for it.
    CommandResult own = berth({"exec", "c7", "ip", "-4", "addr", "show", "eth0"});
    EXPECT_NE(own.out.find(address_of("crowd", "c7") + "/24"), std::string::npos) << own;
    std::vector<std::thread> removers;
    for (int i = 0; i < count; ++i)
        removers.emplace_back([&, i] { berth({"rm", "-f", "c" + std::to_string(i)}, 120000); });
    for (auto& remover : removers)
        remover.join();
    EXPECT_TRUE(endpoints_on("crowd").empty());
    EXPECT_EQ(berth({"network", "rm", "crowd"}).exit_code, 0);
}

TEST_F(NetworkTest, KillingTheMonitorMidSetupLeavesNothingAfterTheNextCommand) {
    // Killed as soon as the namespace file exists (the veth, address and
    // rules may or may not be made yet), then with everything made.
    for (int round = 0; round < 4; ++round) {
        std::thread starter([&] {
            berth({"run", "-d", "--name", "victim", "-p", "80", "busybox", "sleep", "60"});
        });
        pid_t monitor = 0;
        bool killed = false;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!killed && std::chrono::steady_clock::now() < deadline) {
            auto monitors = children_named("berth-monitor");
            if (!monitors.empty()) monitor = monitors.front();
            bool mid_setup = !netns_files().empty();
            if (monitor > 0 && (round % 2 == 0 ? mid_setup : !endpoints_on("bridge").empty())) {
                if (round >= 2) std::this_thread::sleep_for(std::chrono::milliseconds(50));
                ::kill(monitor, SIGKILL);
                killed = true;
            }
        }
        // The network is wired between the runtime's create and start: the
        // init, waiting to start, lives on (holding the namespace and the
        // monitor's socket, which `run` waits on): the user gives up on `run`.
        for (int i = 0; i < 20; ++i) {
            for (pid_t child : children_named("berth"))
                ::kill(child, SIGKILL);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        starter.join();
        ASSERT_TRUE(killed) << "the monitor was never seen setting up";
        CommandResult listed = berth({"ps", "-a", "--no-trunc", "-q"});
        for (const auto& id : lines_of(listed.out))
            remember(id);
        EXPECT_TRUE(netns_files().empty()) << "round " << round;
        EXPECT_TRUE(endpoints_on("bridge").empty()) << "round " << round;
        // The kernel takes a dead namespace's veths away in the background.
        for (int i = 0; i < 100 && !our_veths().empty(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        EXPECT_TRUE(our_veths().empty()) << "round " << round;
        EXPECT_TRUE(container_tables().empty()) << "round " << round;
        berth({"rm", "-f", "victim"});
        reap_zombies();
        // A container's init may outlive its killed monitor until rm.
        for (pid_t child : children_named(""))
            ::kill(child, SIGKILL);
        reap_zombies();
    }
}

} // namespace

// -P publishes every port the image EXPOSEs on a free host port each.
TEST_F(NetworkTest, PublishAllPublishesTheExposedPorts) {
    ASSERT_EQ(berth({"run", "--name", "base", "busybox", "true"}).exit_code, 0);
    CommandResult committed =
        berth({"commit", "-c", "EXPOSE 8080", "-c", "EXPOSE 9090/udp", "base", "exposing:1"});
    ASSERT_EQ(committed.exit_code, 0) << committed;
    EXPECT_EQ(berth({"rm", "base"}).exit_code, 0);
    run_detached({"--name", "pub", "-P", "exposing:1", "sleep", "60"});
    CommandResult ports = berth({"port", "pub"});
    ASSERT_EQ(ports.exit_code, 0) << ports;
    auto lines = lines_of(ports.out);
    ASSERT_EQ(lines.size(), 2u) << ports.out;
    EXPECT_TRUE(lines[0].starts_with("8080/tcp -> 0.0.0.0:")) << lines[0];
    EXPECT_TRUE(lines[1].starts_with("9090/udp -> 0.0.0.0:")) << lines[1];
    EXPECT_GT(std::atoi(lines[0].substr(lines[0].rfind(':') + 1).c_str()), 0);
    EXPECT_EQ(berth({"rm", "-f", "pub"}).exit_code, 0);
    EXPECT_EQ(berth({"rmi", "exposing:1"}).exit_code, 0);
}
