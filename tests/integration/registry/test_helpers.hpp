// Running berth and curl for the registry tests, and looking into a store.
#pragma once

#include "berth_test/berth_cli.hpp"
#include "berth_test/run_command.hpp"
#include "berth_test/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace registry_test {

namespace fs = std::filesystem;
using berth_test::CommandResult;
using nlohmann::json;

// The tools these tests drive; a test skips without them.
inline bool tools_installed() {
    return berth_test::run_command({"sh", "-c",
                                    "command -v docker-registry && command -v htpasswd && "
                                    "command -v openssl && command -v curl"})
               .exit_code == 0;
}

inline CommandResult berth(const fs::path& root, std::vector<std::string> args,
                           std::vector<std::string> env = {}, const std::string& input = {},
                           int timeout_ms = 60000) {
    args.insert(args.begin(), {BERTH_PATH, "--root", root.string()});
    if (!env.empty()) {
        env.insert(env.begin(), "env");
        args.insert(args.begin(), env.begin(), env.end());
    }
    return berth_test::run_command(args, input, timeout_ms);
}

// A busybox image in a new store at `root`, named `name`.
inline void make_busybox(const fs::path& root, const std::string& name) {
    CommandResult made = berth_test::make_busybox_image(BERTH_MAKE_BUSYBOX_IMAGE, BERTH_PATH, root,
                                                        {"--name", name});
    ASSERT_EQ(made.exit_code, 0) << made;
}

// `berth image inspect` of one image, or null.
inline json inspect(const fs::path& root, const std::string& image) {
    CommandResult result = berth(root, {"image", "inspect", image});
    if (result.exit_code != 0) return json();
    return json::parse(result.out)[0];
}

inline std::size_t entries_in(const fs::path& dir) {
    if (!fs::exists(dir)) return 0;
    std::size_t count = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        (void)entry;
        ++count;
    }
    return count;
}

// Nothing but an empty store: no image, blob or snapshot.
inline void expect_empty_store(const fs::path& root) {
    EXPECT_EQ(berth(root, {"images", "-q"}).out, "");
    EXPECT_EQ(entries_in(root / "blobs" / "sha256"), 0u) << "a blob was left behind";
    std::size_t snapshots = 0;
    if (fs::exists(root / "snapshots"))
        for (const auto& entry : fs::directory_iterator(root / "snapshots"))
            if (entry.path().filename().string()[0] != '.') ++snapshots;
    EXPECT_EQ(snapshots, 0u) << "a snapshot was left behind";
}

// The registry API by hand (to make images berth would not make itself).
inline CommandResult curl(std::vector<std::string> args, const std::string& input = {}) {
    args.insert(args.begin(), {"curl", "-sS", "--fail-with-body"});
    return berth_test::run_command(args, input, 30000);
}

inline std::string sha256_hex(const std::string& data) {
    CommandResult result = berth_test::run_command({"sha256sum"}, data);
    return result.out.substr(0, 64);
}

inline std::string put_blob(const std::string& host, const std::string& repository,
                            const std::string& data) {
    std::string digest = "sha256:" + sha256_hex(data);
    CommandResult started =
        curl({"-i", "-X", "POST", "http://" + host + "/v2/" + repository + "/blobs/uploads/"});
    EXPECT_EQ(started.exit_code, 0) << started;
    std::string location;
    for (std::size_t at = 0; at < started.out.size();) {
        auto end = started.out.find("\r\n", at);
        std::string line = started.out.substr(at, end - at);
        if (line.rfind("Location: ", 0) == 0) location = line.substr(10);
        if (end == std::string::npos) break;
        at = end + 2;
    }
    if (location.rfind("http", 0) != 0) location = "http://" + host + location;
    CommandResult put = curl(
        {"-X", "PUT", "-H", "Content-Type: application/octet-stream", "--data-binary", "@-",
         location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + digest},
        data);
    EXPECT_EQ(put.exit_code, 0) << put;
    return digest;
}

inline std::string put_manifest(const std::string& host, const std::string& repository,
                                const std::string& tag, const std::string& media_type,
                                const std::string& content) {
    CommandResult put = curl({"-X", "PUT", "-H", "Content-Type: " + media_type, "--data-binary",
                              "@-", "http://" + host + "/v2/" + repository + "/manifests/" + tag},
                             content);
    EXPECT_EQ(put.exit_code, 0) << put;
    return "sha256:" + sha256_hex(content);
}

inline std::string get(const std::string& url, const std::string& accept = {}) {
    std::vector<std::string> args = {url};
    if (!accept.empty()) args.insert(args.begin(), {"-H", "Accept: " + accept});
    CommandResult result = curl(args);
    EXPECT_EQ(result.exit_code, 0) << result;
    return result.out;
}

inline int count_lines(const std::string& text) {
    int lines = 0;
    for (char c : text)
        lines += c == '\n';
    return lines + (!text.empty() && text.back() != '\n');
}

} // namespace registry_test
