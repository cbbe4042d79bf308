// The fixture of the `berth build` integration tests: a private root with a
// busybox image, a context directory per test, and the checks every test
// ends with (no container, work directory or mount left behind).
#pragma once

#include "berth_test/berth_cli.hpp"
#include "berth_test/children.hpp"
#include "berth_test/run_command.hpp"
#include "berth_test/temp_dir.hpp"
#include "berth_test/text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

namespace berth_build_test {

namespace fs = std::filesystem;
using berth_test::CommandResult;
using berth_test::read_text;
using berth_test::run_command;
using berth_test::trim;
using nlohmann::json;

inline void write_text(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

inline int count_of(const std::string& text, const std::string& needle) {
    int count = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        ++count;
    return count;
}

class BuildTest : public ::testing::Test {
  protected:
    static std::string bridge_name() { return "bbt" + std::to_string(::getpid()); }

    static void SetUpTestSuite() {
        dir_ = new berth_test::TempDir("berth-build-test");
        berth_test::isolate_berth_suite(dir_->path() / "run", BERTH_SECCOMP_DEFAULT_PROFILE);
        // RUN's default network on a bridge and subnet of this suite's own,
        // not the host's berth0 (parallel suites of other roots share none).
        ::setenv("BERTH_BRIDGE", bridge_name().c_str(), 1);
        ::setenv("BERTH_BRIDGE_SUBNET",
                 ("10.214." + std::to_string(::getpid() % 200 + 20) + ".0/24").c_str(), 1);
        ::unsetenv("SOURCE_DATE_EPOCH");
        CommandResult made =
            berth_test::make_busybox_image(BERTH_MAKE_BUSYBOX_IMAGE, BERTH_PATH, root());
        ASSERT_EQ(made.exit_code, 0) << made;
    }

    static void TearDownTestSuite() {
        berth_test::remove_all_containers(BERTH_PATH, root());
        berth_test::reap_zombies();
        // The default network's bridge stays after its last container, as docker0.
        run_command({"nft", "delete", "table", "ip", "berth-" + bridge_name()});
        run_command({"ip", "link", "del", bridge_name()});
        delete dir_;
        dir_ = nullptr;
    }

    void SetUp() override {
        context_ =
            dir_->path() /
            ("ctx-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
        fs::create_directories(context_);
    }

    void TearDown() override {
        // No build container is left behind, running or not.
        EXPECT_EQ(trim(berth({"ps", "-aq"}).out), "");
        EXPECT_TRUE(fs::is_empty(root() / "containers"));
        if (fs::exists(root() / "build")) {
            EXPECT_TRUE(fs::is_empty(root() / "build"));
        }
        EXPECT_EQ(read_text("/proc/self/mountinfo").find(root().string()), std::string::npos)
            << "a mount left under the root";
    }

    static fs::path root() { return dir_->path() / "root"; }

    static CommandResult berth(std::vector<std::string> args, const std::string& input = {},
                               int timeout_ms = 60000) {
        return berth_test::run_berth(BERTH_PATH, root(), std::move(args), input, timeout_ms);
    }

    CommandResult build(std::vector<std::string> args) {
        args.insert(args.begin(), "build");
        args.push_back(context_.string());
        return berth(args);
    }

    void dockerfile(const std::string& text) { write_text(context_ / "Dockerfile", text); }

    static std::string image_id(const std::string& reference) {
        CommandResult inspected = berth({"image", "inspect", reference});
        if (inspected.exit_code != 0) return "";
        return json::parse(inspected.out)[0]["Id"].get<std::string>();
    }

    static CommandResult run(std::vector<std::string> args) {
        args.insert(args.begin(), {"run", "--rm"});
        return berth(args);
    }

    inline static berth_test::TempDir* dir_ = nullptr;
    fs::path context_;
};

} // namespace berth_build_test
