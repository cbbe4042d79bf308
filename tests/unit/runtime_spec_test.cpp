#include "berth/base/error.h"
#include "berth/oci/runtime_spec.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/resource.h>

using berth::oci::parse_spec;

namespace {

nlohmann::json minimal() {
    return {{"ociVersion", "1.0.2"},
            {"process", {{"args", {"sh"}}, {"cwd", "/"}}},
            {"root", {{"path", "rootfs"}}},
            {"linux", {{"namespaces", {{{"type", "mount"}}}}}}};
}

// The error message of parsing `config`, or "" if it parsed.
std::string error_of(const nlohmann::json& config) {
    try {
        parse_spec(config.dump());
    } catch (const berth::Error& error) {
        return error.what();
    }
    return "";
}

} // namespace

TEST(RuntimeSpec, ParsesTheFieldsARuntimeNeeds) {
    nlohmann::json config = minimal();
    config["process"]["user"] = {
        {"uid", 1000}, {"gid", 100}, {"additionalGids", {5, 6}}, {"umask", 18}};
    config["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 10}, {"hard", 20}}};
    config["process"]["capabilities"] = {{"bounding", {"CAP_KILL"}}};
    config["hostname"] = "box";
    config["linux"]["namespaces"].push_back({{"type", "uts"}});
    config["linux"]["namespaces"].push_back({{"type", "network"}, {"path", "/run/netns/x"}});
    config["mounts"] = {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}}};
    config["hooks"] = {{"poststop", {{{"path", "/bin/true"}, {"timeout", 5}}}}};
    auto spec = parse_spec(config.dump());
    ASSERT_TRUE(spec.process);
    EXPECT_EQ(spec.process->user.uid, 1000u);
    EXPECT_EQ(spec.process->user.additional_gids, (std::vector<std::uint32_t>{5, 6}));
    EXPECT_EQ(spec.process->user.umask, 18u);
    ASSERT_EQ(spec.process->rlimits.size(), 1u);
    EXPECT_EQ(spec.process->rlimits[0].resource, RLIMIT_NOFILE);
    EXPECT_EQ(spec.process->rlimits[0].hard, 20u);
    EXPECT_EQ(spec.process->capabilities->bounding, std::vector<std::string>{"CAP_KILL"});
    EXPECT_EQ(spec.hostname, "box");
    EXPECT_EQ(spec.linux.find_namespace("network")->path, "/run/netns/x");
    EXPECT_EQ(spec.mounts.at(0).type, "proc");
    EXPECT_EQ(spec.hooks.poststop.at(0).timeout_seconds, 5);
}

TEST(RuntimeSpec, ErrorsNameTheField) {
    nlohmann::json config = minimal();
    config["process"]["user"] = {{"uid", -1}, {"gid", 0}};
    EXPECT_NE(error_of(config).find("process.user.uid"), std::string::npos) << error_of(config);

    config = minimal();
    config["process"]["args"] = {"sh", 5};
    EXPECT_NE(error_of(config).find("process.args[1]: expected a string"), std::string::npos);

    config = minimal();
    config["mounts"] = {{{"destination", "relative"}}};
    EXPECT_NE(error_of(config).find("mounts[0].destination"), std::string::npos);

    config = minimal();
    config["process"]["rlimits"] = {{{"type", "RLIMIT_BOGUS"}, {"soft", 1}, {"hard", 1}}};
    EXPECT_NE(error_of(config).find("RLIMIT_BOGUS"), std::string::npos);
}

TEST(RuntimeSpec, RejectsInconsistentNamespaces) {
    nlohmann::json config = minimal();
    config["linux"]["namespaces"].push_back({{"type", "user"}});
    EXPECT_NE(error_of(config).find("uidMappings"), std::string::npos);

    config = minimal();
    config["hostname"] = "box";
    EXPECT_NE(error_of(config).find("uts namespace"), std::string::npos);

    config = minimal();
    config["linux"]["namespaces"].push_back({{"type", "mount"}});
    EXPECT_NE(error_of(config).find("repeats"), std::string::npos);

    config = minimal();
    config["linux"]["namespaces"].push_back({{"type", "bogus"}});
    EXPECT_NE(error_of(config).find("bogus"), std::string::npos);
}

TEST(RuntimeSpec, RejectsWhatIsNotAConfig) {
    EXPECT_NE(error_of(nlohmann::json::array()).find("expected a JSON object"), std::string::npos);
    EXPECT_THROW(parse_spec("{\"ociVersion\": "), berth::Error);
    EXPECT_THROW(parse_spec(""), berth::Error);
    nlohmann::json config = minimal();
    config["ociVersion"] = "2.0.0";
    EXPECT_NE(error_of(config).find("1.x"), std::string::npos);
    config = minimal();
    config.erase("root");
    EXPECT_NE(error_of(config).find("root"), std::string::npos);
}
