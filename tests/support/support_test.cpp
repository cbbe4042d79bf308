// Tests for the test support itself. Nothing here needs a container runtime:
// the probe runs directly on the host, bundles are only inspected.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "berth_test/support.hpp"

namespace fs = std::filesystem;
using namespace berth_test;
using nlohmann::json;

namespace {

std::string probe() {
    return probe_binary_path().string();
}

bool mounted_under(const fs::path& root) {
    std::string info = read_text("/proc/self/mountinfo");
    return info.find(" " + root.string() + "/") != std::string::npos ||
           info.find(" " + root.string() + " ") != std::string::npos;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

// ---- probe ---------------------------------------------------------------

TEST(Probe, ReportsWhatTheHostProcessSees) {
    ::setenv("BERTH_SUPPORT_TEST", "a b\tc", 1);
    auto r = run_command({probe()});
    ASSERT_EQ(r.exit_code, 0) << r;
    json j = parse_probe_output(r.out);

    EXPECT_GT(j["pid"].get<int>(), 0);
    EXPECT_EQ(j["ppid"].get<int>(), ::getpid()); // run_command forks us directly
    EXPECT_EQ(j["uid"].get<unsigned>(), ::getuid());
    EXPECT_EQ(j["egid"].get<unsigned>(), ::getegid());
    EXPECT_TRUE(j["groups"].is_array());
    EXPECT_EQ(j["cwd"].get<std::string>(), fs::current_path().string());

    // run_command passes exactly 0-2, and they are its pipes.
    std::set<int> fds;
    for (const auto& fd : j["fds"])
        fds.insert(fd["fd"].get<int>());
    EXPECT_EQ(fds, (std::set<int>{0, 1, 2})) << j["fds"].dump();
    EXPECT_EQ(j["fds"][1]["target"].get<std::string>().rfind("pipe:", 0), 0u);

    for (const char* k : {"inheritable", "permitted", "effective", "bounding", "ambient"})
        EXPECT_EQ(j["caps"][k].get<std::string>().size(), 16u) << k;
    EXPECT_TRUE(j["no_new_privs"].is_number());
    EXPECT_TRUE(j["seccomp"].is_number());

    bool has_root = false;
    for (const auto& m : j["mounts"]) {
        for (const char* k : {"target", "fstype", "source", "options", "super_options"})
            EXPECT_TRUE(m[k].is_string()) << m.dump();
        has_root = has_root || m["target"] == "/";
    }
    EXPECT_TRUE(has_root);

    rlimit nofile;
    ::getrlimit(RLIMIT_NOFILE, &nofile);
    EXPECT_EQ(j["rlimits"]["RLIMIT_NOFILE"]["soft"].get<rlim_t>(), nofile.rlim_cur);
    EXPECT_TRUE(j["rlimits"].contains("RLIMIT_CORE"));

    utsname u;
    ::uname(&u);
    EXPECT_EQ(j["hostname"], u.nodename);
    EXPECT_EQ(j["namespaces"]["mnt"], fs::read_symlink("/proc/self/ns/mnt").string());

    EXPECT_NE(std::find(j["env"].begin(), j["env"].end(), "BERTH_SUPPORT_TEST=a b\tc"),
              j["env"].end());
    EXPECT_EQ(j["args"], json::array({probe()}));
    mode_t mask = ::umask(0);
    ::umask(mask);
    EXPECT_EQ(j["umask"].get<unsigned>(), mask);
    EXPECT_TRUE(j["oom_score_adj"].is_number());
    EXPECT_TRUE(j["exe_writable"].is_string());
    EXPECT_EQ(j["tty"], (json{{"stdin", false}, {"stdout", false}, {"stderr", false}}));
    EXPECT_TRUE(j["ttyname"].is_null());
}

TEST(Probe, EscapesArbitraryBytes) {
    auto r = run_command({probe(), "json", "q\"b\\s", "\x01\n", "\xff", "caf\xc3\xa9"});
    ASSERT_EQ(r.exit_code, 0) << r;
    json j = parse_probe_output(r.out);
    // Invalid UTF-8 comes back byte-for-codepoint (0xff -> U+00FF).
    EXPECT_EQ(j["args"],
              json::array({probe(), "json", "q\"b\\s", "\x01\n", "\xc3\xbf", "caf\xc3\xa9"}));
}

TEST(Probe, HelperModes) {
    EXPECT_EQ(run_command({probe(), "exit", "7"}).exit_code, 7);
    EXPECT_EQ(run_command({probe(), "sleep", "0.05"}).exit_code, 0);

    TempDir dir;
    auto file = (dir.path() / "f").string();
    EXPECT_EQ(run_command({probe(), "write", file, "hello\n"}).exit_code, 0);
    auto cat = run_command({probe(), "cat", file});
    EXPECT_EQ(cat.exit_code, 0) << cat;
    EXPECT_EQ(cat.out, "hello\n");

    auto bad = run_command({probe(), "write", (dir.path() / "no/such").string(), "x"});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.err.find("ENOENT"), std::string::npos) << bad;
    EXPECT_EQ(run_command({probe(), "bogus"}).exit_code, 2);
}

// ---- parse_probe_output ----------------------------------------------------

TEST(ParseProbeOutput, FindsObjectAmongOtherLines) {
    EXPECT_EQ(parse_probe_output("warning: x {not json}\r\n{\"pid\":1}\r\n")["pid"], 1);
    EXPECT_EQ(parse_probe_output("noise\n{\n  \"pid\": 2\n}\n")["pid"], 2);
}

TEST(ParseProbeOutput, ThrowsOnGarbage) {
    EXPECT_THROW(parse_probe_output(""), ProbeOutputError);
    EXPECT_THROW(parse_probe_output("[1,2]"), ProbeOutputError);
    try {
        parse_probe_output("sh: /probe: not found\n{broken");
        FAIL() << "no exception";
    } catch (const ProbeOutputError& e) {
        EXPECT_NE(std::string(e.what()).find("/probe: not found"), std::string::npos);
    }
}

// ---- run_command -----------------------------------------------------------

TEST(RunCommand, PipesLargeStdinAndBothOutputsWithoutDeadlock) {
    std::string data(1 << 20, 'x');
    for (size_t i = 0; i < data.size(); i += 97)
        data[i] = '\n';
    auto r = run_command({"/bin/busybox", "sh", "-c", "cat; head -c 300000 /dev/zero >&2"}, data);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, data);
    EXPECT_EQ(r.err.size(), 300000u);
}

TEST(RunCommand, ReportsSignalsAndExecFailures) {
    EXPECT_EQ(run_command({"/bin/busybox", "sh", "-c", "kill -9 $$"}).exit_code, 128 + SIGKILL);
    auto missing = run_command({"/nonexistent/berth"});
    EXPECT_EQ(missing.exit_code, 127);
    EXPECT_NE(missing.err.find("cannot execute"), std::string::npos);
    EXPECT_EQ(run_command({"true"}).exit_code, 0); // found via $PATH
}

TEST(RunCommand, StdinClosedEarlyIsNotFatal) {
    auto r = run_command({"/bin/busybox", "true"}, std::string(4 << 20, 'y'));
    EXPECT_EQ(r.exit_code, 0);
}

TEST(RunCommand, TimeoutKillsProcessGroupAndFails) {
    CommandResult r;
    auto start = std::chrono::steady_clock::now();
    EXPECT_NONFATAL_FAILURE(
        r = run_command({"/bin/busybox", "sh", "-c", "sleep 30 & echo $!; wait"}, {}, 300),
        "timed out after 300 ms");
    EXPECT_LT(seconds_since(start), 5.0);
    EXPECT_TRUE(r.timed_out);
    EXPECT_EQ(r.exit_code, 128 + SIGKILL);
    // The grandchild was in the same process group and died too (it may
    // linger as a zombie until its new parent reaps it).
    pid_t grandchild = std::stoi(r.out);
    // SIGKILL is delivered at once, but on a loaded machine the exit itself
    // can take a moment.
    std::string stat;
    for (int tries = 0; tries < 200; ++tries) {
        stat = read_text("/proc/" + std::to_string(grandchild) + "/stat");
        if (stat.empty() || stat.find(") Z ") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(stat.empty() || stat.find(") Z ") != std::string::npos) << stat;
}

TEST(RunCommand, DoesNotWaitForDescendantsHoldingThePipes) {
    auto start = std::chrono::steady_clock::now();
    auto r = run_command({"/bin/busybox", "sh", "-c", probe() + " sleep 3 & echo done"});
    EXPECT_LT(seconds_since(start), 2.5);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "done\n");
}

// ---- TempDir -----------------------------------------------------------------

TEST(TempDir, RemovesItselfWithoutFollowingSymlinks) {
    TempDir outside;
    std::ofstream(outside.path() / "keep") << "precious";
    fs::path path;
    {
        TempDir dir;
        path = dir.path();
        EXPECT_TRUE(fs::is_directory(path));
        EXPECT_EQ(fs::status(path).permissions(), fs::perms::owner_all);
        fs::create_directories(path / "a/b/c");
        std::ofstream(path / "a/b/c/file") << "x";
        fs::create_directory_symlink(outside.path(), path / "a/link");
        fs::create_symlink(outside.path() / "keep", path / "a/b/filelink");
        fs::permissions(path / "a/b", fs::perms::none);
    }
    EXPECT_FALSE(fs::exists(path));
    EXPECT_EQ(read_text(outside.path() / "keep"), "precious");
}

TEST(TempDir, HonoursTmpdirAndMoves) {
    TempDir base;
    const char* old = std::getenv("TMPDIR");
    std::string saved = old ? old : "";
    ::setenv("TMPDIR", base.path().c_str(), 1);
    TempDir a("custom");
    old ? ::setenv("TMPDIR", saved.c_str(), 1) : ::unsetenv("TMPDIR");

    EXPECT_EQ(a.path().parent_path(), base.path());
    EXPECT_EQ(a.path().filename().string().rfind("custom-", 0), 0u);
    fs::path p = a.path();
    TempDir b(std::move(a));
    EXPECT_TRUE(a.path().empty());
    EXPECT_EQ(b.path(), p);
    b.remove();
    EXPECT_FALSE(fs::exists(p));
    b.remove(); // idempotent
}

TEST(TempDir, UnmountsLeftoverMountsFirst) {
    TempDir outside;
    std::ofstream(outside.path() / "keep") << "precious";
    fs::path path;
    {
        TempDir dir;
        path = dir.path();
        fs::create_directories(path / "t");
        fs::create_directories(path / "bind");
        if (::mount("tmpfs", (path / "t").c_str(), "tmpfs", 0, nullptr) != 0)
            GTEST_SKIP() << "cannot mount here (need root): " << std::strerror(errno);
        // Stacked mounts and a nested one, plus a bind mount of a host
        // directory: deleting through it would destroy the original.
        ASSERT_EQ(::mount("tmpfs", (path / "t").c_str(), "tmpfs", 0, nullptr), 0);
        fs::create_directories(path / "t/inner");
        ASSERT_EQ(::mount("tmpfs", (path / "t/inner").c_str(), "tmpfs", 0, nullptr), 0);
        ASSERT_EQ(
            ::mount(outside.path().c_str(), (path / "bind").c_str(), nullptr, MS_BIND, nullptr), 0);
        std::ofstream(path / "t/inner/x") << "x";
        ASSERT_TRUE(mounted_under(path));
    }
    EXPECT_FALSE(mounted_under(path));
    EXPECT_FALSE(fs::exists(path));
    EXPECT_EQ(read_text(outside.path() / "keep"), "precious");
}

// ---- Bundle ------------------------------------------------------------------

TEST(Bundle, BuildsRootfsAndConfig) {
    fs::path path;
    {
        Bundle bundle;
        path = bundle.path();
        const fs::path root = bundle.rootfs();
        EXPECT_EQ(root, path / "rootfs");
        EXPECT_TRUE(fs::is_regular_file(root / "bin/busybox"));
        EXPECT_EQ(fs::read_symlink(root / "bin/sh"), "busybox");
        EXPECT_EQ(::access((root / "probe").c_str(), X_OK), 0);
        for (const char* d : {"proc", "sys", "dev", "tmp"})
            EXPECT_TRUE(fs::is_empty(root / d)) << d;
        EXPECT_NE(read_text(root / "etc/passwd").find("nobody:x:65534"), std::string::npos);
        EXPECT_NE(read_text(root / "etc/group").find("root:x:0:"), std::string::npos);

        json config = json::parse(read_text(bundle.config_path()));
        EXPECT_EQ(config, bundle.config());
        EXPECT_EQ(config["ociVersion"], "1.0.2");
        EXPECT_EQ(config["process"]["args"], json::array({"sh"}));
        EXPECT_EQ(config["root"]["path"], "rootfs");
        EXPECT_EQ(config["hostname"], "berth-test");
        for (const auto& ns : config["linux"]["namespaces"])
            EXPECT_TRUE(ns["type"] != "cgroup" && ns["type"] != "user") << ns;

        bundle.config()["process"]["args"] = {"/probe", "exit", "3"};
        bundle.write_config();
        EXPECT_EQ(json::parse(read_text(bundle.config_path()))["process"]["args"][2], "3");
    }
    EXPECT_FALSE(fs::exists(path));
}

TEST(Bundle, BinariesRunAndAppletsExist) {
    Bundle bundle;
    const fs::path bin = bundle.rootfs() / "bin";
    EXPECT_EQ(run_command({(bin / "echo").string(), "hi"}).out, "hi\n");
    EXPECT_EQ(run_command({(bundle.rootfs() / "probe").string(), "exit", "3"}).exit_code, 3);

    std::string list = run_command({(bin / "busybox").string(), "--list"}).out;
    std::set<std::string> applets;
    std::istringstream in(list);
    for (std::string name; std::getline(in, name);)
        applets.insert(name);
    for (const auto& entry : fs::directory_iterator(bin)) {
        std::string name = entry.path().filename();
        if (name != "busybox") {
            EXPECT_TRUE(applets.count(name)) << "busybox lacks applet " << name;
        }
    }
}

TEST(Text, ReadTrimAndSplit) {
    TempDir dir;
    std::ofstream(dir.path() / "f") << "a\n\nb \n";
    EXPECT_EQ(read_text(dir.path() / "f"), "a\n\nb \n");
    EXPECT_EQ(read_text(dir.path() / "missing"), "");
    EXPECT_EQ(trim("id \n\n"), "id");
    EXPECT_EQ(trim(" lead"), " lead");
    EXPECT_EQ(lines_of("a\n\nb \n"), (std::vector<std::string>{"a", "b "}));
}

TEST(Children, FindsLivingChildrenByNameAndReapsTheRest) {
    pid_t sleeper = ::fork();
    if (sleeper == 0) {
        ::execl("/bin/sleep", "sleep", "30", nullptr);
        ::_exit(127);
    }
    pid_t quitter = ::fork();
    if (quitter == 0) ::_exit(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(children_named("sleep"), std::vector<pid_t>{sleeper});
    std::vector<pid_t> living = living_children();
    EXPECT_NE(std::find(living.begin(), living.end(), sleeper), living.end());
    EXPECT_EQ(std::find(living.begin(), living.end(), quitter), living.end()) << "a zombie";
    ::kill(sleeper, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    reap_zombies();
    EXPECT_TRUE(living_children().empty());
    EXPECT_LT(::waitpid(-1, nullptr, WNOHANG), 0) << "a child left unreaped";
}

TEST(LoopbackServer, AnswersEachConnectionUntilStopped) {
    std::atomic<int> served{0};
    LoopbackServer server([&](int client) {
        ++served;
        (void)!::write(client, "hi", 2);
        ::close(client);
    });
    // bash's /dev/tcp as the client: connects, prints what the server sends.
    auto fetch = [&] {
        std::string port = std::to_string(server.port());
        return run_command({"bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/" + port + "; cat <&3"}).out;
    };
    EXPECT_NE(server.port(), 0);
    EXPECT_EQ(fetch(), "hi");
    EXPECT_EQ(fetch(), "hi");
    server.stop();
    server.stop();
    EXPECT_EQ(served, 2);
    EXPECT_NE(free_loopback_port(), 0);
}
