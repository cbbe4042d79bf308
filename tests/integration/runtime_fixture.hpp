// Shared fixture for the integration tests: each test gets a private --root
// state directory, a helper to run the real berth-runtime binary against it,
// and a TearDown that force-deletes whatever the test left behind.
#pragma once

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <sys/types.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "berth_test/support.hpp"

namespace berth_it {

namespace fs = std::filesystem;
using berth_test::CommandResult;
using nlohmann::json;

// Absolute path of the berth-runtime under test (set by CMake).
std::string runtime_path();

// True if pid exists and is not a zombie. A zombie counts as gone: its
// program no longer runs, and on this host nobody may ever reap it.
bool process_running(pid_t pid);

// Polls process_running() until it is false or timeout passes.
bool wait_process_gone(pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Living processes whose parent is this test process. With the fixture
// acting as child subreaper, every orphan a runtime invocation leaves
// behind (container init, hook, shim) ends up here.
std::vector<pid_t> living_children();

// The set of fd numbers in a probe report.
std::set<int> probe_fds(const json& report);

// Whole file contents ("" if it cannot be read).
std::string read_text(const fs::path& path);

// A command running in the background (its own process group, stdio on
// /dev/null unless out_file is given), for tests that must act while the
// runtime is still running. The destructor SIGKILLs and reaps it.
class Background {
  public:
    explicit Background(std::vector<std::string> argv, const fs::path& out_file = {});
    ~Background();
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    pid_t pid() const noexcept { return pid_; }
    // Exit code (128 + signal if killed), or -1 if still running at timeout.
    int wait(std::chrono::milliseconds timeout);
    void kill(int sig);

  private:
    pid_t pid_ = -1;
    bool reaped_ = false;
};

class RuntimeTest : public ::testing::Test {
  protected:
    RuntimeTest();
    void SetUp() override;
    void TearDown() override;

    const fs::path& root() const noexcept { return root_.path(); }

    // A container id unique on this host: cgroup and other host-global
    // names derived from it must not clash with parallel test processes.
    std::string make_id(const std::string& stem) const;

    // Runs `berth-runtime --root <root> args...`.
    CommandResult runtime(std::vector<std::string> args, int timeout_ms = 20000) const;

    // `state id` parsed; records a failure and returns null if it fails.
    json state(const std::string& id) const;

    // Polls `state id` until its status is `want`; returns the last status
    // seen ("" if state failed).
    std::string wait_for_status(const std::string& id, const std::string& want,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

    // Ids from `list -q`.
    std::set<std::string> listed_ids() const;

    // Reaps exited children and SIGKILLs + reaps living ones (by pid).
    void reap_children();

  private:
    berth_test::TempDir root_;
};

} // namespace berth_it
