// Rootless berth end to end: the `berth` command line run as an unused,
// unprivileged uid (through util-linux's setpriv, no capability, no
// supplementary group, a login's environment), with its default roots
// under the user's HOME and XDG_RUNTIME_DIR, its user namespace held by the
// berth-pause process, and slirp4netns for the default network. Root only
// (to become the user); skips where unprivileged user namespaces are off.
#include "berth_test/loopback_server.hpp"
#include "berth_test/run_command.hpp"
#include "berth_test/temp_dir.hpp"
#include "berth_test/text.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <thread>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using berth_test::CommandResult;
using berth_test::read_text;
using berth_test::run_command;
using berth_test::trim;

// Processes named `comm` that run as host uid `uid` (zombies excluded).
std::vector<pid_t> processes_of(uid_t uid, const std::string& comm) {
    std::vector<pid_t> pids;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        pid_t pid = std::atoi(entry.path().filename().c_str());
        if (pid <= 0) continue;
        struct stat info {};
        if (::stat(entry.path().c_str(), &info) != 0 || info.st_uid != uid) continue;
        std::string stat = read_text(entry.path() / "stat");
        auto close = stat.rfind(')');
        if (close == std::string::npos || stat.size() < close + 3 || stat[close + 2] == 'Z')
            continue;
        if (trim(read_text(entry.path() / "comm")) == comm) pids.push_back(pid);
    }
    return pids;
}

bool empty_or_missing(const fs::path& dir) {
    std::error_code error;
    return !fs::exists(dir, error) || fs::is_empty(dir, error);
}

// Connects to 127.0.0.1:port (retrying while the server comes up) and
// returns what it sends.
std::string read_from_loopback(std::uint16_t port) {
    for (int attempt = 0; attempt < 50; ++attempt) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port);
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        timeval timeout{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        std::string reply;
        if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
            char buffer[256];
            ssize_t got;
            while ((got = ::read(fd, buffer, sizeof buffer)) > 0)
                reply.append(buffer, static_cast<std::size_t>(got));
        }
        ::close(fd);
        if (!reply.empty()) return reply;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "";
}

class RootlessNetworkTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        if (::geteuid() != 0) {
            skip_ = "needs root, to become an unprivileged user";
            return;
        }
        for (uid_t id = 59100; id < 65000 && uid_ == 0; ++id)
            if (!::getpwuid(id) && !::getgrgid(id)) uid_ = id;
        dir_ = new berth_test::TempDir("berth-rootless-net");
        fs::permissions(dir_->path(),
                        fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
        fs::create_directory(home());
        ::chown(home().c_str(), uid_, uid_);
        CommandResult probe = as_user({"unshare", "--user", "--map-root-user", "true"});
        if (probe.exit_code != 0) {
            skip_ = "unprivileged users cannot create user namespaces here: " + probe.err;
            return;
        }
        CommandResult made = as_user({BERTH_MAKE_BUSYBOX_IMAGE, "--berth", BERTH_PATH}, 60000);
        ASSERT_EQ(made.exit_code, 0) << made;
        give_user_a_tun_device();
    }

    // slirp4netns opens /dev/net/tun as the user. Debian's udev makes it
    // 0666; where it is root's alone, the user's mount namespace (the
    // pause process's, nobody else's) gets a node of its own on it.
    static void give_user_a_tun_device() {
        if (as_user({"test", "-r", "/dev/net/tun", "-a", "-w", "/dev/net/tun"}).exit_code == 0)
            return;
        fs::path node = dir_->path() / "tun";
        ASSERT_EQ(::mknod(node.c_str(), S_IFCHR | 0666, makedev(10, 200)), 0);
        ::chmod(node.c_str(), 0666);
        CommandResult bound = run_command({"nsenter", "-t", std::to_string(pause_pid()), "-m",
                                           "mount", "--bind", node.string(), "/dev/net/tun"});
        ASSERT_EQ(bound.exit_code, 0) << bound;
    }

    static void TearDownTestSuite() {
        if (dir_ && skip_.empty()) {
            CommandResult listed = berth({"ps", "-aq"});
            std::stringstream ids(listed.out);
            for (std::string id; std::getline(ids, id);)
                if (!id.empty()) berth({"rm", "-f", id});
        }
        if (pid_t pause = dir_ ? pause_pid() : 0; pause > 0) {
            ::kill(pause, SIGKILL);
            for (int i = 0; i < 100 && ::kill(pause, 0) == 0; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        delete dir_;
        dir_ = nullptr;
    }

    void SetUp() override {
        if (!skip_.empty()) GTEST_SKIP() << skip_;
    }

    void TearDown() override {
        if (!skip_.empty()) return;
        EXPECT_TRUE(nothing_left());
    }

    // No container, slirp4netns, netns file or monitor of the user's.
    static bool nothing_left() {
        for (int i = 0; i < 100; ++i) {
            bool clean = processes_of(uid_, "slirp4netns").empty() &&
                         processes_of(uid_, "berth-monitor").empty() &&
                         empty_or_missing(run_root() / "netns") &&
                         trim(berth({"ps", "-aq"}).out).empty();
            if (clean) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        ADD_FAILURE() << "slirp4netns " << processes_of(uid_, "slirp4netns").size() << ", monitors "
                      << processes_of(uid_, "berth-monitor").size() << ", containers "
                      << berth({"ps", "-aq"}).out;
        return false;
    }

    static fs::path home() { return dir_->path() / "home"; }
    static fs::path run_root() { return home() / "berth"; }

    static pid_t pause_pid() { return std::atoi(read_text(run_root() / "pause.pid").c_str()); }

    static CommandResult as_user(std::vector<std::string> argv, int timeout_ms = 30000) {
        std::vector<std::string> prefix = {"setpriv",
                                           "--reuid",
                                           std::to_string(uid_),
                                           "--regid",
                                           std::to_string(uid_),
                                           "--clear-groups",
                                           "--inh-caps=-all",
                                           "env",
                                           "-i",
                                           "HOME=" + home().string(),
                                           "XDG_RUNTIME_DIR=" + home().string(),
                                           "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                                           std::string("BERTH_SECCOMP_PROFILE=") +
                                               BERTH_SECCOMP_DEFAULT_PROFILE};
        argv.insert(argv.begin(), prefix.begin(), prefix.end());
        return run_command(std::move(argv), {}, timeout_ms);
    }

    static CommandResult berth(std::vector<std::string> args, int timeout_ms = 30000) {
        args.insert(args.begin(), BERTH_PATH);
        return as_user(std::move(args), timeout_ms);
    }

    static inline berth_test::TempDir* dir_ = nullptr;
    static inline uid_t uid_ = 0;
    static inline std::string skip_;
};

TEST_F(RootlessNetworkTest, RunsWithTheUsersDefaultsAndItsExitCode) {
    CommandResult ran =
        berth({"run", "--rm", "busybox", "sh", "-c", "id -u; cat /proc/self/uid_map; exit 7"});
    EXPECT_EQ(ran.exit_code, 7) << ran;
    // Root inside, the user's own uid outside.
    EXPECT_NE(ran.out.find("0\n"), std::string::npos) << ran.out;
    EXPECT_NE(ran.out.find(std::to_string(uid_)), std::string::npos) << ran.out;
    // Its store in ~/.local/share/berth, its run root in $XDG_RUNTIME_DIR/berth.
    EXPECT_TRUE(fs::exists(home() / ".local/share/berth/berth.db"));
    EXPECT_TRUE(fs::exists(run_root() / "pause.pid"));
    EXPECT_EQ(processes_of(uid_, "berth-pause").size(), 1u);
}

// The engine's other commands as the user: exec, cp, and commit of a
// running container that has no cgroup to freeze.
TEST_F(RootlessNetworkTest, ExecCopyAndCommitWork) {
    ASSERT_EQ(berth({"run", "-d", "--name", "busy", "--network", "none", "busybox", "sh", "-c",
                     "echo changed > /etc/motd; sleep 60"})
                  .exit_code,
              0);
    CommandResult exec = berth({"exec", "busy", "id", "-u"});
    EXPECT_EQ(trim(exec.out), "0") << exec;
    fs::path file = home() / "copied.txt";
    std::ofstream(file) << "copied-in\n";
    fs::permissions(file, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    EXPECT_EQ(berth({"cp", file.string(), "busy:/tmp/copied.txt"}).exit_code, 0);
    EXPECT_EQ(trim(berth({"exec", "busy", "cat", "/tmp/copied.txt"}).out), "copied-in");
    for (int i = 0; i < 50; ++i)
        if (trim(berth({"exec", "busy", "cat", "/etc/motd"}).out) == "changed") break;
    CommandResult committed = berth({"commit", "busy", "committed:1"});
    ASSERT_EQ(committed.exit_code, 0) << committed;
    CommandResult ran =
        berth({"run", "--rm", "--network", "none", "committed:1", "cat", "/etc/motd"});
    EXPECT_EQ(trim(ran.out), "changed") << ran;
    EXPECT_EQ(berth({"rm", "-f", "busy"}).exit_code, 0);
    EXPECT_EQ(berth({"rmi", "committed:1"}).exit_code, 0);
}

TEST_F(RootlessNetworkTest, DefaultNetworkIsSlirp4netnsWithAddressRouteAndDns) {
    CommandResult ran = berth({"run", "--rm", "busybox", "sh", "-c",
                               "ip -4 addr show tap0; ip route; cat /etc/resolv.conf"});
    ASSERT_EQ(ran.exit_code, 0) << ran;
    EXPECT_NE(ran.out.find("inet 10.0.2.100/24"), std::string::npos) << ran.out;
    EXPECT_NE(ran.out.find("default via 10.0.2.2"), std::string::npos) << ran.out;
    EXPECT_NE(ran.out.find("nameserver 10.0.2.3"), std::string::npos) << ran.out;
}

TEST_F(RootlessNetworkTest, PublishedPortIsReachableFromHostLoopback) {
    std::uint16_t port = berth_test::free_loopback_port();
    CommandResult started =
        berth({"run", "-d", "--name", "web", "-p", "127.0.0.1:" + std::to_string(port) + ":80",
               "busybox", "sh", "-c", "while true; do echo hello-rootless | nc -l -p 80; done"});
    ASSERT_EQ(started.exit_code, 0) << started;
    EXPECT_EQ(processes_of(uid_, "slirp4netns").size(), 1u);
    EXPECT_EQ(trim(read_from_loopback(port)), "hello-rootless");
    // As docker shows them: port, ps, inspect.
    EXPECT_EQ(trim(berth({"port", "web"}).out), "80/tcp -> 127.0.0.1:" + std::to_string(port));
    EXPECT_NE(berth({"ps"}).out.find("127.0.0.1:" + std::to_string(port) + "->80/tcp"),
              std::string::npos);
    CommandResult inspected =
        berth({"inspect", "--format", "{{.NetworkSettings.IPAddress}}", "web"});
    EXPECT_EQ(trim(inspected.out), "10.0.2.100") << inspected;
    // A range, and a host port chosen by berth.
    CommandResult ranged = berth(
        {"run", "-d", "--name", "ranged", "-p", "127.0.0.1::7000", "-p",
         "127.0.0.1:" + std::to_string(port + 1) + "-" + std::to_string(port + 2) + ":7001-7002",
         "busybox", "sh", "-c",
         "for p in 7000 7001 7002; do (while true; do echo port-$p | nc "
         "-l -p $p; done) & done; wait"});
    ASSERT_EQ(ranged.exit_code, 0) << ranged;
    CommandResult ports = berth({"port", "ranged", "7000"});
    auto colon = ports.out.rfind(':');
    ASSERT_NE(colon, std::string::npos) << ports;
    auto chosen = static_cast<std::uint16_t>(std::atoi(ports.out.c_str() + colon + 1));
    EXPECT_EQ(trim(read_from_loopback(chosen)), "port-7000");
    EXPECT_EQ(trim(read_from_loopback(static_cast<std::uint16_t>(port + 2))), "port-7002");
    EXPECT_EQ(berth({"rm", "-f", "ranged"}).exit_code, 0);
    // slirp4netns goes with the container.
    EXPECT_EQ(berth({"rm", "-f", "web"}).exit_code, 0);
    EXPECT_TRUE(processes_of(uid_, "slirp4netns").empty());
    EXPECT_TRUE(empty_or_missing(run_root() / "slirp4netns"));
}

// kill -9 of the monitor: slirp4netns goes with it (its exit fd), and the
// next command removes the netns file and what else is left.
TEST_F(RootlessNetworkTest, KillingTheMonitorLeavesNothingAfterTheNextCommand) {
    CommandResult started =
        berth({"run", "-d", "--name", "victim", "-p",
               "127.0.0.1:" + std::to_string(berth_test::free_loopback_port()) + ":80", "busybox",
               "sleep", "60"});
    ASSERT_EQ(started.exit_code, 0) << started;
    // The monitor, not the container's init (forked from it, named the same until it execs).
    std::vector<pid_t> monitors;
    auto named = processes_of(uid_, "berth-monitor");
    for (pid_t pid : named) {
        std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
        pid_t parent = std::atoi(stat.c_str() + stat.rfind(')') + 4);
        if (std::find(named.begin(), named.end(), parent) == named.end()) monitors.push_back(pid);
    }
    ASSERT_EQ(monitors.size(), 1u);
    EXPECT_EQ(processes_of(uid_, "slirp4netns").size(), 1u);
    ::kill(monitors.front(), SIGKILL);
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
        gone = processes_of(uid_, "slirp4netns").empty();
        if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(gone) << "slirp4netns outlived its monitor";
    EXPECT_EQ(berth({"ps", "-a"}).exit_code, 0);
    EXPECT_TRUE(empty_or_missing(run_root() / "netns"));
    EXPECT_TRUE(empty_or_missing(run_root() / "slirp4netns"));
    EXPECT_EQ(berth({"rm", "-f", "victim"}).exit_code, 0);
}

TEST_F(RootlessNetworkTest, OutboundReachesTheHostsLoopbackThroughTheGateway) {
    int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(server, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    socklen_t size = sizeof address;
    ::getsockname(server, reinterpret_cast<sockaddr*>(&address), &size);
    ::listen(server, 1);
    std::thread answer([server] {
        int client = ::accept(server, nullptr, nullptr);
        if (client >= 0) {
            (void)!::write(client, "from-the-host\n", 14);
            ::close(client);
        }
    });
    CommandResult ran =
        berth({"run", "--rm", "busybox", "sh", "-c",
               "nc 10.0.2.2 " + std::to_string(ntohs(address.sin_port)) + " </dev/null"});
    ::shutdown(server, SHUT_RDWR);
    answer.join();
    ::close(server);
    EXPECT_EQ(ran.exit_code, 0) << ran;
    EXPECT_EQ(trim(ran.out), "from-the-host");
}

TEST_F(RootlessNetworkTest, NoneAndHostModes) {
    CommandResult none =
        berth({"run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net"});
    ASSERT_EQ(none.exit_code, 0) << none;
    EXPECT_EQ(trim(none.out), "lo");
    CommandResult host =
        berth({"run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net"});
    ASSERT_EQ(host.exit_code, 0) << host;
    std::size_t host_links = 0;
    for (const auto& entry : fs::directory_iterator("/sys/class/net")) {
        (void)entry;
        ++host_links;
    }
    std::size_t seen = 0;
    std::stringstream lines(host.out);
    for (std::string line; lines >> line;)
        ++seen;
    EXPECT_EQ(seen, host_links) << host.out;
    EXPECT_TRUE(processes_of(uid_, "slirp4netns").empty());
}

TEST_F(RootlessNetworkTest, BadInputIsOneLineWithCode125AndLeavesNothing) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"run", "--rm", "--network", "mine", "busybox", "true"},
          std::vector<std::string>{"run", "--rm", "-p", "70000:80", "busybox", "true"},
          std::vector<std::string>{"run", "--rm", "--network", "none", "-p", "80", "busybox",
                                   "true"}}) {
        CommandResult failed = berth(args);
        EXPECT_EQ(failed.exit_code, 125) << failed;
        EXPECT_EQ(std::count(failed.err.begin(), failed.err.end(), '\n'), 1) << failed.err;
        EXPECT_TRUE(failed.err.starts_with("berth: ")) << failed.err;
    }
    EXPECT_NE(berth({"run", "--rm", "--network", "mine", "busybox", "true"})
                  .err.find("user-defined networks need root"),
              std::string::npos);
    EXPECT_TRUE(trim(berth({"ps", "-aq"}).out).empty());
    CommandResult network = berth({"network", "create", "mine"});
    EXPECT_NE(network.exit_code, 0);
    EXPECT_NE(network.err.find("user-defined networks need root"), std::string::npos) << network;
    EXPECT_EQ(trim(berth({"network", "ls", "-q"}).out), "");
}

} // namespace
