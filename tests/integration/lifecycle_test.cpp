// Container lifecycle through the CLI: create/start/state/kill/delete/list,
// exit codes of `run`, and the operations the OCI runtime spec says MUST fail.
#include <algorithm>
#include <csignal>
#include <string>

#include "runtime_fixture.hpp"

namespace berth_it {
namespace {

using berth_test::Bundle;
using namespace std::chrono_literals;

class Lifecycle : public RuntimeTest {
  protected:
    // A bundle whose process runs `args` instead of the default shell.
    static void set_args(Bundle& bundle, json args) {
        bundle.config()["process"]["args"] = std::move(args);
        bundle.write_config();
    }

    // Creates and starts a container that sleeps; returns its host pid.
    pid_t start_sleeper(Bundle& bundle, const std::string& id) {
        set_args(bundle, {"/probe", "sleep", "30"});
        auto created = runtime({"create", id, "--bundle", bundle.path()});
        EXPECT_EQ(created.exit_code, 0) << created;
        auto started = runtime({"start", id});
        EXPECT_EQ(started.exit_code, 0) << started;
        json s = state(id);
        EXPECT_EQ(s.value("status", ""), "running") << s;
        return s.value("pid", 0);
    }
};

// `run` in the foreground must hand back the container process's exit code.
TEST_F(Lifecycle, RunReturnsTheProcessExitCode) {
    Bundle bundle;
    set_args(bundle, {"/probe", "exit", "7"});
    const std::string id = make_id("exit7");
    auto r = runtime({"run", id, "--bundle", bundle.path()});
    EXPECT_EQ(r.exit_code, 7) << r;
    // Like runc, a foreground run deletes its container once it has exited.
    EXPECT_EQ(listed_ids().count(id), 0u);
}

// A process killed by a signal is reported as 128 + signal, as shells do.
// Without a pid namespace, because a pid-namespace init cannot SIGKILL
// itself (the kernel drops such signals), so `kill -9 $$` would do nothing.
TEST_F(Lifecycle, RunReportsDeathBySignalAs128PlusSignal) {
    Bundle bundle;
    auto& namespaces = bundle.config()["linux"]["namespaces"];
    for (auto it = namespaces.begin(); it != namespaces.end();)
        it = (*it)["type"] == "pid" ? namespaces.erase(it) : it + 1;
    set_args(bundle, {"sh", "-c", "kill -9 $$"});
    auto r = runtime({"run", make_id("sig"), "--bundle", bundle.path()});
    EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r;
}

// The usual way a container dies by signal: `kill` from outside while a
// foreground `run` waits for it.
TEST_F(Lifecycle, RunReportsInitKilledFromOutside) {
    Bundle bundle;
    set_args(bundle, {"/probe", "sleep", "30"});
    const std::string id = make_id("killed");
    Background run({runtime_path(), "--root", root(), "run", id, "--bundle", bundle.path()});
    ASSERT_EQ(wait_for_status(id, "running"), "running");
    auto k = runtime({"kill", id, "KILL"});
    EXPECT_EQ(k.exit_code, 0) << k;
    EXPECT_EQ(run.wait(5s), 128 + SIGKILL);
}

// The whole create -> start -> kill -> delete cycle with the state reported
// at every step.
TEST_F(Lifecycle, CreateStartKillDelete) {
    Bundle bundle;
    set_args(bundle, {"/probe", "sleep", "30"});
    const std::string id = make_id("cycle");
    const fs::path pid_file = bundle.path() / "init.pid";

    auto created =
        runtime({"create", id, "--bundle", bundle.path(), "--pid-file", pid_file.string()});
    ASSERT_EQ(created.exit_code, 0) << created;
    json s = state(id);
    EXPECT_EQ(s.value("status", ""), "created") << s;
    EXPECT_EQ(s.value("id", ""), id);
    EXPECT_EQ(s.value("bundle", ""), bundle.path().string());
    const pid_t pid = s.value("pid", 0);
    EXPECT_GT(pid, 0);
    EXPECT_EQ(read_text(pid_file), std::to_string(pid)) << "pid file disagrees with state";
    EXPECT_TRUE(process_running(pid)) << "init of a created container must be waiting";
    // The fixture is a subreaper, so the orphaned init is our child: the
    // "no process left" checks of other tests rely on this.
    EXPECT_EQ(std::ranges::count(living_children(), pid), 1);

    // Listed in both formats while it exists.
    EXPECT_EQ(listed_ids().count(id), 1u);
    auto list = runtime({"list", "--format", "json"});
    ASSERT_EQ(list.exit_code, 0) << list;
    json listed = json::parse(list.out, nullptr, false);
    ASSERT_TRUE(listed.is_array()) << list.out;
    ASSERT_EQ(listed.size(), 1u) << listed;
    EXPECT_EQ(listed[0].value("id", ""), id);
    EXPECT_EQ(listed[0].value("status", ""), "created");
    EXPECT_EQ(listed[0].value("pid", 0), pid);

    auto started = runtime({"start", id});
    ASSERT_EQ(started.exit_code, 0) << started;
    EXPECT_EQ(state(id).value("status", ""), "running");

    auto killed = runtime({"kill", id, "KILL"});
    ASSERT_EQ(killed.exit_code, 0) << killed;
    EXPECT_EQ(wait_for_status(id, "stopped"), "stopped");
    // "stopped" already holds while the kernel finishes the init's exit.
    EXPECT_TRUE(wait_process_gone(pid));

    auto deleted = runtime({"delete", id});
    ASSERT_EQ(deleted.exit_code, 0) << deleted;
    auto gone = runtime({"state", id});
    EXPECT_NE(gone.exit_code, 0) << "state of a deleted container must fail\n" << gone;
    EXPECT_EQ(listed_ids().count(id), 0u);
    EXPECT_FALSE(fs::exists(root() / id)) << "delete left its state directory";
}

// Spec: start on a container that is not "created" MUST fail.
TEST_F(Lifecycle, StartOfRunningContainerFails) {
    Bundle bundle;
    const std::string id = make_id("start2");
    const pid_t pid = start_sleeper(bundle, id);
    auto again = runtime({"start", id});
    EXPECT_NE(again.exit_code, 0) << again;
    EXPECT_EQ(state(id).value("status", ""), "running");
    EXPECT_TRUE(process_running(pid));
}

// Spec: delete of a container that is not stopped MUST fail (without
// --force) and must leave it alone.
TEST_F(Lifecycle, DeleteOfRunningContainerWithoutForceFails) {
    Bundle bundle;
    const std::string id = make_id("nodelete");
    const pid_t pid = start_sleeper(bundle, id);
    auto del = runtime({"delete", id});
    EXPECT_NE(del.exit_code, 0) << del;
    EXPECT_EQ(state(id).value("status", ""), "running");
    EXPECT_TRUE(process_running(pid)) << "a refused delete must not kill the container";
}

// Spec: kill of a container that is neither created nor running MUST fail.
TEST_F(Lifecycle, KillOfStoppedContainerFails) {
    Bundle bundle;
    set_args(bundle, {"/probe", "exit", "0"});
    const std::string id = make_id("killstopped");
    ASSERT_EQ(runtime({"create", id, "--bundle", bundle.path()}).exit_code, 0);
    ASSERT_EQ(runtime({"start", id}).exit_code, 0);
    ASSERT_EQ(wait_for_status(id, "stopped"), "stopped");
    auto k = runtime({"kill", id, "TERM"});
    EXPECT_NE(k.exit_code, 0) << k;
    EXPECT_NE(k.err.find("container not running"), std::string::npos) << k;
}

// Spec: create with an id already in use MUST fail, and must not disturb the
// existing container (its state, its process, its state directory).
TEST_F(Lifecycle, CreateWithExistingIdFails) {
    Bundle first, second;
    set_args(first, {"/probe", "sleep", "30"});
    set_args(second, {"/probe", "sleep", "30"});
    const std::string id = make_id("dup");
    ASSERT_EQ(runtime({"create", id, "--bundle", first.path()}).exit_code, 0);
    json before = state(id);

    auto dup = runtime({"create", id, "--bundle", second.path()});
    EXPECT_NE(dup.exit_code, 0) << dup;

    json after = state(id);
    EXPECT_EQ(after, before) << "the first container's state changed";
    EXPECT_TRUE(process_running(before.value("pid", 0)));
    // It still works: it can be started.
    auto started = runtime({"start", id});
    EXPECT_EQ(started.exit_code, 0) << started;
    EXPECT_EQ(state(id).value("status", ""), "running");
}

// delete --force on a running container kills it and removes it.
TEST_F(Lifecycle, DeleteForceKillsRunningContainer) {
    Bundle bundle;
    const std::string id = make_id("force");
    const pid_t pid = start_sleeper(bundle, id);
    ASSERT_TRUE(process_running(pid));
    auto del = runtime({"delete", "--force", id});
    EXPECT_EQ(del.exit_code, 0) << del;
    EXPECT_TRUE(wait_process_gone(pid)) << "container process " << pid << " survived";
    EXPECT_NE(runtime({"state", id}).exit_code, 0);
    EXPECT_EQ(listed_ids().count(id), 0u);
}

// run --detach returns at once, leaving the container running.
TEST_F(Lifecycle, RunDetachLeavesContainerRunning) {
    Bundle bundle;
    set_args(bundle, {"/probe", "sleep", "30"});
    const std::string id = make_id("detach");
    const auto start = std::chrono::steady_clock::now();
    auto r = runtime({"run", id, "--bundle", bundle.path(), "--detach"});
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "run --detach waited";
    json s = state(id);
    EXPECT_EQ(s.value("status", ""), "running") << s;
    EXPECT_TRUE(process_running(s.value("pid", 0)));
    // Let go at the end of create (start_at_once): no fifo left to start it.
    EXPECT_FALSE(fs::exists(root() / id / "exec.fifo"));
    auto again = runtime({"start", id});
    EXPECT_NE(again.exit_code, 0) << "start of a running container must fail\n" << again;
    EXPECT_EQ(runtime({"delete", "--force", id}).exit_code, 0);
}

} // namespace
} // namespace berth_it
