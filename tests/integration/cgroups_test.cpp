// Resource limits through cgroups, seen from inside the container and from
// the host: limits applied, a fork bomb and a memory hog contained, pause,
// update, ps, events, and nothing left behind on delete. Every container
// lives below a cgroup parent of this test process's own, removed at the end.
#include <algorithm>
#include <csignal>
#include <fstream>
#include <string>
#include <thread>

#include <unistd.h>

#include "runtime_fixture.hpp"

namespace berth_it {
namespace {

using berth_test::Bundle;

// This test process's cgroup parent, relative to its own cgroup.
std::string parent_name() {
    return "berth-test-" + std::to_string(::getpid());
}

// Removes the parent in every v1 hierarchy (and unified), deepest first.
void remove_parent_everywhere() {
    std::vector<fs::path> found;
    std::error_code ignored;
    for (auto it = fs::recursive_directory_iterator("/sys/fs/cgroup", ignored);
         it != fs::recursive_directory_iterator(); it.increment(ignored)) {
        if (it.depth() > 6) it.disable_recursion_pending();
        if (it->is_directory(ignored) && it->path().filename() == parent_name())
            found.push_back(it->path());
    }
    for (auto& dir : found) {
        std::vector<fs::path> all;
        for (auto sub = fs::recursive_directory_iterator(dir, ignored);
             sub != fs::recursive_directory_iterator(); sub.increment(ignored))
            if (sub->is_directory(ignored)) all.push_back(sub->path());
        std::sort(all.rbegin(), all.rend());
        for (auto& d : all)
            ::rmdir(d.c_str());
        ::rmdir(dir.c_str());
    }
}

// The directory of `pid`'s cgroup in the v1 `controller` hierarchy.
fs::path host_cgroup_dir(pid_t pid, const std::string& controller) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
    for (std::string line; std::getline(in, line);) {
        auto first = line.find(':'), second = line.find(':', first + 1);
        std::string controllers = line.substr(first + 1, second - first - 1);
        if (("," + controllers + ",").find("," + controller + ",") != std::string::npos)
            return fs::path("/sys/fs/cgroup") / controller / line.substr(second + 2);
    }
    return {};
}

class Cgroups : public RuntimeTest {
  protected:
    void TearDown() override {
        RuntimeTest::TearDown();
        remove_parent_everywhere();
    }

    // A bundle in its own cgroup with `resources`, a cgroup namespace and the
    // cgroup tree mounted at /sys/fs/cgroup (as docker sets it up).
    void limit(Bundle& bundle, const std::string& id, json resources, json args) {
        auto& config = bundle.config();
        config["linux"]["cgroupsPath"] = parent_name() + "/" + id;
        config["linux"]["resources"] = std::move(resources);
        config["linux"]["namespaces"].push_back({{"type", "cgroup"}});
        config["mounts"].push_back({{"destination", "/sys/fs/cgroup"},
                                    {"type", "cgroup"},
                                    {"source", "cgroup"},
                                    {"options", {"nosuid", "noexec", "nodev", "ro"}}});
        config["process"]["args"] = std::move(args);
        bundle.write_config();
    }

    std::string start(Bundle& bundle, json resources, json args = {"/probe", "sleep", "30"}) {
        std::string id = make_id("cg");
        limit(bundle, id, std::move(resources), std::move(args));
        auto r = runtime({"run", "--detach", "--bundle", bundle.path(), id});
        EXPECT_EQ(r.exit_code, 0) << r;
        return id;
    }

    pid_t init_pid(const std::string& id) { return state(id).value("pid", 0); }
};

// The limits of config.json are what the container's own cgroup holds.
TEST_F(Cgroups, LimitsAreAppliedAndSeenInside) {
    Bundle bundle;
    std::string id = start(bundle, {{"memory", {{"limit", 64 << 20}}}, {"pids", {{"limit", 50}}}});
    auto r = runtime({"exec", id, "/probe", "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"});
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(std::stoll(r.out), 64LL << 20) << r;
    r = runtime({"exec", id, "/probe", "cat", "/sys/fs/cgroup/pids/pids.max"});
    EXPECT_EQ(r.out, "50\n") << r;
    fs::path host = host_cgroup_dir(init_pid(id), "memory");
    EXPECT_NE(host.string().find(parent_name() + "/" + id), std::string::npos) << host;
    EXPECT_EQ(std::stoll(read_text(host / "memory.limit_in_bytes")), 64LL << 20);
}

// A container that forks without end stops at pids.max; the host does not notice.
TEST_F(Cgroups, ForkBombStopsAtThePidsLimit) {
    Bundle bundle;
    std::string id = start(bundle, {{"pids", {{"limit", 20}}}});
    // From a second process, so the init survives the shell giving up when fork fails.
    auto bomb =
        runtime({"exec", "--detach", id, "sh", "-c", "for i in $(seq 200); do sleep 30 & done"});
    ASSERT_EQ(bomb.exit_code, 0) << bomb;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(state(id).value("status", ""), "running");
    auto ps = runtime({"ps", "--format", "json", id});
    ASSERT_EQ(ps.exit_code, 0) << ps;
    auto pids = json::parse(ps.out);
    EXPECT_LE(pids.size(), 20u);
    EXPECT_GE(pids.size(), 10u) << "the shell should have forked up to the limit";
}

// A process that allocates without end is killed by the OOM killer inside
// its limit; the container is then stopped and `run` reports SIGKILL.
TEST_F(Cgroups, MemoryHogIsKilledWithinItsLimit) {
    Bundle bundle;
    std::string id = make_id("oom");
    limit(bundle, id, {{"memory", {{"limit", 32 << 20}, {"swap", 32 << 20}}}},
          {"sh", "-c", "x=aaaaaaaa; while true; do x=$x$x; done"});
    auto r = runtime({"run", "--bundle", bundle.path(), id}, 60000);
    EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r;
}

TEST_F(Cgroups, PauseAndResume) {
    Bundle bundle;
    std::string id = start(bundle, {{"pids", {{"limit", 100}}}});
    ASSERT_EQ(runtime({"pause", id}).exit_code, 0);
    EXPECT_EQ(state(id).value("status", ""), "paused");
    EXPECT_NE(runtime({"pause", id}).exit_code, 0) << "pausing twice must fail";
    ASSERT_EQ(runtime({"resume", id}).exit_code, 0);
    EXPECT_EQ(state(id).value("status", ""), "running");
    EXPECT_NE(runtime({"resume", id}).exit_code, 0) << "resuming a running container must fail";
}

TEST_F(Cgroups, UpdateChangesLimits) {
    Bundle bundle;
    std::string id = start(bundle, {{"memory", {{"limit", 64 << 20}}}});
    auto u = runtime({"update", "--memory", "128m", "--pids-limit", "77", id});
    ASSERT_EQ(u.exit_code, 0) << u;
    fs::path memory = host_cgroup_dir(init_pid(id), "memory");
    EXPECT_EQ(std::stoll(read_text(memory / "memory.limit_in_bytes")), 128LL << 20);
    EXPECT_EQ(read_text(host_cgroup_dir(init_pid(id), "pids") / "pids.max"), "77\n");
    auto bad = runtime({"update", "--memory", "lots", id});
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE(bad.err.find("--memory"), std::string::npos) << bad;
}

TEST_F(Cgroups, StatsAndProcesses) {
    Bundle bundle;
    std::string id = start(bundle, {{"memory", {{"limit", 64 << 20}}}});
    auto e = runtime({"events", "--stats", id});
    ASSERT_EQ(e.exit_code, 0) << e;
    json event = json::parse(e.out);
    EXPECT_EQ(event["type"], "stats");
    EXPECT_GT(event["data"]["memory"]["usage"]["usage"].get<long long>(), 0) << e.out;
    auto exec = runtime({"exec", "--detach", id, "/probe", "sleep", "30"});
    ASSERT_EQ(exec.exit_code, 0) << exec;
    auto ps = runtime({"ps", "--format", "json", id});
    EXPECT_EQ(json::parse(ps.out).size(), 2u) << ps << "the init and the exec'd process";
}

// kill --all reaches every process of the cgroup, not only the init.
TEST_F(Cgroups, KillAllAndDeleteLeaveNothing) {
    Bundle bundle;
    std::string id =
        start(bundle, {{"pids", {{"limit", 100}}}}, {"sh", "-c", "sleep 30 & sleep 30 & sleep 30"});
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    fs::path dir = host_cgroup_dir(init_pid(id), "pids");
    ASSERT_FALSE(dir.empty());
    ASSERT_EQ(runtime({"kill", "--all", id, "KILL"}).exit_code, 0);
    EXPECT_EQ(wait_for_status(id, "stopped"), "stopped");
    ASSERT_EQ(runtime({"delete", id}).exit_code, 0);
    EXPECT_FALSE(fs::exists(dir)) << dir;
}

// CVE-2022-0492: a container must not be able to write a release_agent
// (or anything else) in the cgroup tree it sees.
TEST_F(Cgroups, CgroupTreeIsNotWritableInside) {
    Bundle bundle;
    std::string id = start(bundle, {{"pids", {{"limit", 100}}}});
    for (const char* path : {"/sys/fs/cgroup/memory/release_agent", "/sys/fs/cgroup/pids/pids.max",
                             "/sys/fs/cgroup/memory/notify_on_release"}) {
        auto r = runtime({"exec", id, "/probe", "write", path, "/evil"});
        EXPECT_NE(r.exit_code, 0) << path << ": " << r;
    }
    // Not even with CAP_SYS_ADMIN given to the exec'd process: the mount is read-only.
    auto r = runtime({"exec", "--cap", "CAP_SYS_ADMIN", id, "/probe", "write",
                      "/sys/fs/cgroup/pids/pids.max", "max"});
    EXPECT_NE(r.exit_code, 0) << r;
}

TEST_F(Cgroups, WithoutACgroupTheCommandsSaySo) {
    Bundle bundle;
    bundle.config()["process"]["args"] = {"/probe", "sleep", "30"};
    bundle.write_config();
    std::string id = make_id("nocg");
    ASSERT_EQ(runtime({"run", "--detach", "--bundle", bundle.path(), id}).exit_code, 0);
    auto r = runtime({"pause", id});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("no cgroup"), std::string::npos) << r;
}

} // namespace
} // namespace berth_it

namespace berth_it {
namespace {

// exec --cgroup puts the process in a sub-cgroup of the container's.
TEST_F(Cgroups, ExecIntoASubCgroup) {
    Bundle bundle;
    std::string id = start(bundle, {{"pids", {{"limit", 100}}}});
    auto r = runtime({"exec", "--detach", "--cgroup", "pids:tools", id, "/probe", "sleep", "30"});
    ASSERT_EQ(r.exit_code, 0) << r;
    fs::path tools = host_cgroup_dir(init_pid(id), "pids") / "tools";
    EXPECT_NE(read_text(tools / "cgroup.procs"), "") << tools;
    auto all = runtime({"exec", "--detach", "--cgroup", "extra", id, "/probe", "sleep", "30"});
    ASSERT_EQ(all.exit_code, 0) << all;
    EXPECT_NE(read_text(host_cgroup_dir(init_pid(id), "memory") / "extra" / "cgroup.procs"), "");
    auto bad = runtime({"exec", "--cgroup", "nosuch:x", id, "true"});
    EXPECT_NE(bad.exit_code, 0);
}

} // namespace
} // namespace berth_it
