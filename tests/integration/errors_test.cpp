// Failures and the informational commands: a failed create must clean up
// completely and say why (on stderr and in a JSON log); --version, features
// and spec print what runc-compatible tooling parses.
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "runtime_fixture.hpp"

namespace berth_it {
namespace {

using berth_test::Bundle;
using berth_test::TempDir;
using namespace std::chrono_literals;

class Errors : public RuntimeTest {
  protected:
    // Adds a mount the kernel cannot perform: an unknown filesystem type.
    static void add_bad_mount(Bundle& bundle, const std::string& destination) {
        bundle.config()["mounts"].push_back(
            {{"destination", destination}, {"type", "nonexistentfs"}, {"source", "none"}});
        bundle.write_config();
    }

    // Polls until no orphan of the runtime is alive (see living_children).
    static bool wait_no_children(std::chrono::milliseconds timeout = 3s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!living_children().empty()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(20ms);
        }
        return true;
    }
};

// A create that fails half-way (namespaces made, init forked, then a mount
// fails) says which mount, and leaves no container, state or process.
TEST_F(Errors, FailedCreateLeavesNothing) {
    Bundle bundle;
    add_bad_mount(bundle, "/bad-mount");
    const std::string id = make_id("badmount");
    auto r = runtime({"create", id, "--bundle", bundle.path()});
    EXPECT_NE(r.exit_code, 0) << r;
    EXPECT_NE(r.err.find("/bad-mount"), std::string::npos) << "error must name the mount\n" << r;

    EXPECT_EQ(listed_ids().count(id), 0u) << "failed container still listed";
    EXPECT_FALSE(fs::exists(root() / id)) << "failed create left its state directory";
    EXPECT_TRUE(wait_no_children())
        << "a process of the failed container is still alive, pid " << living_children().front();
}

// With --log FILE --log-format json the error goes to the log as a JSON line
// at level "error" whose message explains the failure.
TEST_F(Errors, JsonLogRecordsFailedCreate) {
    Bundle bundle;
    add_bad_mount(bundle, "/bad-mount");
    TempDir logs;
    const fs::path log = logs.path() / "runtime.log";
    auto r = runtime({"--log", log.string(), "--log-format", "json", "create", make_id("log"),
                      "--bundle", bundle.path()});
    EXPECT_NE(r.exit_code, 0) << r;

    const std::string text = read_text(log);
    bool found = false;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        json entry = json::parse(line, nullptr, false);
        EXPECT_FALSE(entry.is_discarded()) << "not a JSON line: " << line;
        if (entry.is_object() && entry.value("level", "") == "error" &&
            entry.value("msg", "").find("/bad-mount") != std::string::npos)
            found = true;
    }
    EXPECT_TRUE(found) << "no error entry naming the mount in the log:\n" << text;
}

// Relative --root and --bundle are taken relative to the caller's cwd, as
// with runc. RUNTIME BUG (kept failing on purpose): berth changes directory
// before writing the state file, so `run` fails with "opening
// state/<id>/state.json.tmp.N: No such file or directory" and leaves a
// half-made container in the state dir.
TEST_F(Errors, RelativeRootAndBundlePathsWork) {
    Bundle bundle;
    bundle.config()["process"]["args"] = {"/probe", "exit", "3"};
    bundle.write_config();
    TempDir work; // not root(): TearDown would take "state" for a container
    fs::create_symlink(bundle.path(), work.path() / "bundle");
    const std::string id = make_id("relative");
    auto r =
        berth_test::run_command({"/bin/sh", "-c",
                                 "cd '" + work.path().string() + "' && exec '" + runtime_path() +
                                     "' --root state run " + id + " --bundle bundle"});
    EXPECT_EQ(r.exit_code, 3) << r;
    EXPECT_FALSE(fs::exists(work.path() / "state" / id)) << "run left its container behind";
    // Cleanup TearDown cannot do: this container lives outside root().
    berth_test::run_command(
        {runtime_path(), "--root", (work.path() / "state").string(), "delete", "--force", id});
}

// State of a container that never existed fails and says so.
TEST_F(Errors, StateOfUnknownContainerFails) {
    auto r = runtime({"state", "no-such-container"});
    EXPECT_NE(r.exit_code, 0) << r;
    EXPECT_TRUE(r.out.empty()) << r;
    EXPECT_NE(r.err.find("no-such-container"), std::string::npos) << r;
}

// --version: the three lines runc prints, which tools (containerd, podman)
// parse.
TEST_F(Errors, VersionPrintsThreeLines) {
    auto r = runtime({"--version"});
    ASSERT_EQ(r.exit_code, 0) << r;
    static const std::regex kVersion("berth-runtime version [^\\s]+\n"
                                     "commit: [^\\s]+\n"
                                     "spec: 1\\.[0-9]+\\.[0-9]+\n");
    EXPECT_TRUE(std::regex_match(r.out, kVersion)) << r;
}

// features: JSON whose ociVersionMax is the spec version --version claims.
TEST_F(Errors, FeaturesPrintsJson) {
    auto r = runtime({"features"});
    ASSERT_EQ(r.exit_code, 0) << r;
    json j = json::parse(r.out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r;
    EXPECT_EQ(j.value("ociVersionMin", "").rfind("1.", 0), 0u) << j;
    const std::string max = j.value("ociVersionMax", "");
    EXPECT_NE(runtime({"--version"}).out.find("spec: " + max + "\n"), std::string::npos)
        << "ociVersionMax " << max << " disagrees with --version";
}

// spec writes a usable config.json into --bundle and never overwrites one.
TEST_F(Errors, SpecWritesConfigAndRefusesToOverwrite) {
    TempDir dir;
    const fs::path config = dir.path() / "config.json";
    auto r = runtime({"spec", "--bundle", dir.path()});
    ASSERT_EQ(r.exit_code, 0) << r;
    json j = json::parse(read_text(config), nullptr, false);
    ASSERT_TRUE(j.is_object()) << read_text(config);
    EXPECT_EQ(j.value("ociVersion", "").rfind("1.", 0), 0u);
    EXPECT_EQ(j["root"].value("path", ""), "rootfs");
    EXPECT_FALSE(j["process"]["args"].empty());

    // A config the user edited must survive a second `spec`.
    std::ofstream(config) << "{\"edited\": true}\n";
    auto again = runtime({"spec", "--bundle", dir.path()});
    EXPECT_NE(again.exit_code, 0) << again;
    EXPECT_EQ(read_text(config), "{\"edited\": true}\n");
}

// spec --rootless adds a user namespace with mappings (what makes it
// rootless).
TEST_F(Errors, SpecRootlessHasUserNamespace) {
    TempDir dir;
    auto r = runtime({"spec", "--rootless", "--bundle", dir.path()});
    ASSERT_EQ(r.exit_code, 0) << r;
    json j = json::parse(read_text(dir.path() / "config.json"), nullptr, false);
    ASSERT_TRUE(j.is_object());
    bool user_ns = false;
    for (const auto& ns : j["linux"]["namespaces"])
        user_ns = user_ns || ns.value("type", "") == "user";
    EXPECT_TRUE(user_ns) << j["linux"];
    EXPECT_FALSE(j["linux"]["uidMappings"].empty()) << j["linux"];
    EXPECT_FALSE(j["linux"]["gidMappings"].empty()) << j["linux"];
}

} // namespace
} // namespace berth_it
