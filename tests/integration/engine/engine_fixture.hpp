// The engine tests' fixture: a private root with the busybox image, runs
// under a cgroup parent of our own, and checks that nothing is left behind.
#pragma once

#include "berth_test/berth_cli.hpp"
#include "berth_test/cgroup_parent.hpp"
#include "berth_test/children.hpp"
#include "berth_test/run_command.hpp"
#include "berth_test/temp_dir.hpp"
#include "berth_test/text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using berth_test::CommandResult;
using berth_test::lines_of;
using berth_test::living_children;
using berth_test::read_text;
using berth_test::reap_zombies;
using berth_test::run_command;
using berth_test::trim;
using nlohmann::json;

std::string cgroup_parent() {
    return "berth-test-" + std::to_string(::getpid());
}

bool process_running(pid_t pid) {
    std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
    auto close = stat.rfind(')');
    return close != std::string::npos && stat.size() > close + 2 && stat[close + 2] != 'Z';
}

// Container directories below our cgroup parent, in every hierarchy.
std::vector<fs::path> container_cgroups() {
    return berth_test::cgroups_below(cgroup_parent());
}

class EngineTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new berth_test::TempDir("berth-engine-test");
        berth_test::isolate_berth_suite(dir_->path() / "run", BERTH_SECCOMP_DEFAULT_PROFILE);
        // The default network on a bridge and subnet of this suite's own.
        ::setenv("BERTH_BRIDGE", bridge_name().c_str(), 1);
        ::setenv("BERTH_BRIDGE_SUBNET",
                 ("10.212." + std::to_string(::getpid() % 200 + 20) + ".0/24").c_str(), 1);
        CommandResult made =
            berth_test::make_busybox_image(BERTH_MAKE_BUSYBOX_IMAGE, BERTH_PATH, root());
        ASSERT_EQ(made.exit_code, 0) << made;
    }

    static void TearDownTestSuite() {
        berth_test::remove_all_containers(BERTH_PATH, root());
        reap_zombies();
        berth_test::remove_cgroup_parent(cgroup_parent());
        // The default network's bridge stays after its last container, as docker0.
        run_command({"nft", "delete", "table", "ip", "berth-" + bridge_name()});
        run_command({"ip", "link", "del", bridge_name()});
        delete dir_;
        dir_ = nullptr;
    }

    void TearDown() override {
        EXPECT_TRUE(no_children_soon()) << "a monitor or container outlived its test";
    }

    // A monitor closes its socket (which `run` waits for) just before it exits.
    static bool no_children_soon() {
        for (int i = 0; i < 100; ++i) {
            reap_zombies();
            if (living_children().empty()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    static fs::path root() { return dir_->path() / "root"; }

    static std::string bridge_name() { return "bet" + std::to_string(::getpid()); }

    static CommandResult berth(std::vector<std::string> args, int timeout_ms = 30000) {
        return berth_test::run_berth(BERTH_PATH, root(), std::move(args), {}, timeout_ms);
    }

    // `berth run ARGS` with our cgroup parent.
    static CommandResult run(std::vector<std::string> args) {
        args.insert(args.begin(), {"run", "--cgroup-parent", cgroup_parent()});
        return berth(args);
    }

    static json inspect(const std::string& container) {
        CommandResult result = berth({"inspect", container});
        if (result.exit_code != 0) return json();
        return json::parse(result.out)[0];
    }

    void expect_nothing_left() {
        reap_zombies();
        EXPECT_EQ(trim(berth({"ps", "-aq"}).out), "") << "a row in berth.db";
        EXPECT_TRUE(fs::is_empty(root() / "containers")) << "container files";
        EXPECT_EQ(read_text("/proc/self/mountinfo").find((root() / "containers").string()),
                  std::string::npos)
            << "a rootfs mount";
        EXPECT_TRUE(container_cgroups().empty()) << "a container cgroup";
        EXPECT_TRUE(no_children_soon()) << "a monitor";
    }

    static inline berth_test::TempDir* dir_ = nullptr;
};

} // namespace
