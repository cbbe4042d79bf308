// Docker's syntax of -v, --mount, --tmpfs, --ulimit, --restart and labels,
// and how the options land in config.json.
#include "berth/base/error.h"
#include "berth/engine/container_options.h"
#include "berth/engine/oci_spec_builder.h"
#include "berth/engine/restart_policy.h"
#include "berth/engine/spec_options.h"

#include <gtest/gtest.h>

namespace berth::engine {
namespace {

TEST(VolumeFlag, BindNamedAndAnonymous) {
    MountRequest bind = parse_volume_flag("/host/dir:/data:ro,rshared");
    EXPECT_EQ(bind.type, "bind");
    EXPECT_EQ(bind.source, "/host/dir");
    EXPECT_EQ(bind.target, "/data");
    EXPECT_TRUE(bind.read_only);
    EXPECT_TRUE(bind.create_source);
    EXPECT_EQ(bind.propagation, "rshared");

    MountRequest named = parse_volume_flag("cache:/var/cache:nocopy");
    EXPECT_EQ(named.type, "volume");
    EXPECT_EQ(named.source, "cache");
    EXPECT_TRUE(named.no_copy);
    EXPECT_FALSE(named.anonymous);

    MountRequest anonymous = parse_volume_flag("/scratch");
    EXPECT_EQ(anonymous.type, "volume");
    EXPECT_TRUE(anonymous.anonymous);
    EXPECT_EQ(anonymous.source, "");
    EXPECT_EQ(anonymous.target, "/scratch");
}

TEST(VolumeFlag, RefusesWhatDockerRefuses) {
    for (const char* bad : {"", "a b:/x", "vol:relative", "vol:/", "/a:/b:rx", "/a:/b:ro,rw",
                            "vol:/x:rshared", "a:b:c:d", ":/x", "x:/y"})
        EXPECT_THROW(parse_volume_flag(bad), Error) << bad;
}

TEST(MountFlag, Fields) {
    MountRequest bind = parse_mount_flag("type=bind,src=/a,dst=/b,readonly");
    EXPECT_EQ(bind.type, "bind");
    EXPECT_TRUE(bind.read_only);
    EXPECT_FALSE(bind.create_source) << "--mount never makes a missing source";
    MountRequest volume = parse_mount_flag("target=/v,ro=false");
    EXPECT_EQ(volume.type, "volume");
    EXPECT_TRUE(volume.anonymous);
    EXPECT_FALSE(volume.read_only);
    MountRequest tmpfs = parse_mount_flag("type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=700");
    EXPECT_EQ(tmpfs.tmpfs_options, (std::vector<std::string>{"size=1m", "mode=700"}));
    for (const char* bad :
         {"type=nfs,target=/x", "type=bind,target=/x", "type=bind,src=rel,dst=/x",
          "target=/x,color=blue", "source=v", "type=tmpfs,src=x,dst=/t",
          "type=volume,src=v,dst=/x,bind-propagation=shared",
          "type=bind,src=/a,dst=/b,tmpfs-size=1m", "target=/x,readonly=maybe", "target"})
        EXPECT_THROW(parse_mount_flag(bad), Error) << bad;
}

TEST(TmpfsFlag, DockerDefaultsAndOptions) {
    MountRequest plain = parse_tmpfs_flag("/run");
    EXPECT_EQ(plain.tmpfs_options, (std::vector<std::string>{"noexec", "nosuid", "nodev"}));
    MountRequest options = parse_tmpfs_flag("/t:exec,size=64m,ro");
    EXPECT_EQ(options.tmpfs_options, (std::vector<std::string>{"nosuid", "nodev", "size=64m"}));
    EXPECT_TRUE(options.read_only);
    EXPECT_THROW(parse_tmpfs_flag("relative"), Error);
    EXPECT_THROW(parse_tmpfs_flag("/t:bogus"), Error);
}

TEST(Ulimit, SoftHardAndErrors) {
    Ulimit both = parse_ulimit("nofile=1024:2048");
    EXPECT_EQ(both.name, "nofile");
    EXPECT_EQ(both.soft, 1024);
    EXPECT_EQ(both.hard, 2048);
    Ulimit one = parse_ulimit("nproc=50");
    EXPECT_EQ(one.soft, 50);
    EXPECT_EQ(one.hard, 50);
    for (const char* bad : {"nofile", "bogus=1", "nofile=x", "nofile=1:y", "nofile=10:5", "=1"})
        EXPECT_THROW(parse_ulimit(bad), Error) << bad;
}

TEST(RestartPolicyFlag, Policies) {
    EXPECT_EQ(parse_restart_policy("no").name, "no");
    EXPECT_EQ(parse_restart_policy("always").name, "always");
    EXPECT_EQ(parse_restart_policy("unless-stopped").name, "unless-stopped");
    RestartPolicy limited = parse_restart_policy("on-failure:3");
    EXPECT_EQ(limited.name, "on-failure");
    EXPECT_EQ(limited.maximum_retries, 3);
    EXPECT_EQ(parse_restart_policy("on-failure").maximum_retries, 0);
    for (const char* bad : {"sometimes", "always:1", "on-failure:x", "on-failure:-1"})
        EXPECT_THROW(parse_restart_policy(bad), Error) << bad;
}

TEST(Labels, KeyAndValue) {
    EXPECT_EQ(parse_label("a=b=c"), (std::pair<std::string, std::string>{"a", "b=c"}));
    EXPECT_EQ(parse_label("flag"), (std::pair<std::string, std::string>{"flag", ""}));
    EXPECT_THROW(parse_label("=x"), Error);
}

TEST(Options, SurviveTheirJson) {
    ContainerOptions options;
    options.mounts.push_back(parse_volume_flag("data:/d:ro"));
    options.ulimits.push_back(parse_ulimit("nofile=1:2"));
    options.labels["a"] = "b";
    options.restart = parse_restart_policy("on-failure:2");
    options.init = true;
    options.cpuset_cpus = "0-1";
    nlohmann::json json = options;
    ContainerOptions back = json.get<ContainerOptions>();
    EXPECT_EQ(nlohmann::json(back), json);
    EXPECT_EQ(back.mounts.at(0).source, "data");
    EXPECT_EQ(back.restart.maximum_retries, 2);
}

TEST(SpecOptions, LandInConfigJson) {
    RunRequest request;
    request.memory_bytes = 64 << 20;
    request.options.ulimits = {parse_ulimit("nofile=100:200"), parse_ulimit("core=0")};
    request.options.memory_swap = 128 << 20;
    request.options.cpu_shares = 512;
    request.options.cpuset_cpus = "0";
    request.options.init = true;
    SpecInputs inputs;
    inputs.id = "abc";
    inputs.init_path = "/usr/libexec/berth/berth-init";
    inputs.extra_gids = {1234};
    inputs.mounts = nlohmann::json::array(
        {{{"destination", "/etc"}, {"type", "bind"}, {"source", "/v"}, {"options", {"rbind"}}}});
    oci::ContainerConfig image;
    image.cmd = {"sh"};
    nlohmann::json spec = build_oci_spec(request, image, inputs);
    const auto& rlimits = spec["process"]["rlimits"];
    ASSERT_EQ(rlimits.size(), 2u) << "nofile replaced, core added";
    EXPECT_EQ(rlimits[0]["soft"], 100);
    EXPECT_EQ(rlimits[0]["hard"], 200);
    EXPECT_EQ(rlimits[1]["type"], "RLIMIT_CORE");
    EXPECT_EQ(spec["process"]["args"], nlohmann::json({"/sbin/docker-init", "--", "sh"}));
    EXPECT_EQ(spec["process"]["user"]["additionalGids"], nlohmann::json({1234}));
    EXPECT_EQ(spec["linux"]["resources"]["memory"]["swap"], 128 << 20);
    EXPECT_EQ(spec["linux"]["resources"]["cpu"]["shares"], 512);
    EXPECT_EQ(spec["linux"]["resources"]["cpu"]["cpus"], "0");
    // Parents first: the /etc volume before the /etc/hosts file bound into it.
    std::size_t etc = 0, hosts = 0;
    for (std::size_t i = 0; i < spec["mounts"].size(); ++i) {
        if (spec["mounts"][i]["destination"] == "/etc") etc = i;
        if (spec["mounts"][i]["destination"] == "/etc/hosts") hosts = i;
    }
    EXPECT_LT(etc, hosts);
}

TEST(SpecOptions, ChecksBeforeAnythingIsMade) {
    RunRequest request;
    request.options.memory_swap = 1 << 20;
    EXPECT_THROW(check_container_options(request), Error) << "swap without memory";
    request = RunRequest();
    request.auto_remove = true;
    request.options.restart = parse_restart_policy("always");
    EXPECT_THROW(check_container_options(request), Error) << "--rm with --restart";
    request = RunRequest();
    request.options.ulimits = {parse_ulimit("nofile=1:999999999999")};
    EXPECT_THROW(check_container_options(request), Error) << "above the host's hard limit";
}

} // namespace
} // namespace berth::engine

namespace berth::engine {
namespace {

using std::chrono::milliseconds;

TEST(RestartPolicyRules, AsDockersRestartManager) {
    RestartPolicy no, always, on_failure = parse_restart_policy("on-failure:2"),
                              unlimited = parse_restart_policy("on-failure");
    always.name = "always";
    EXPECT_FALSE(should_restart(no, 1, 0, false));
    EXPECT_TRUE(should_restart(always, 0, 100, false));
    EXPECT_FALSE(should_restart(always, 1, 0, true)) << "stopped by the user";
    EXPECT_TRUE(should_restart(on_failure, 1, 1, false));
    EXPECT_FALSE(should_restart(on_failure, 1, 2, false)) << "two restarts were allowed";
    EXPECT_FALSE(should_restart(on_failure, 0, 0, false)) << "a success is no failure";
    EXPECT_TRUE(should_restart(unlimited, 1, 1000, false));
}

TEST(RestartPolicyRules, BackoffDoublesAndResets) {
    EXPECT_EQ(next_restart_delay(milliseconds(0), milliseconds(5)), milliseconds(100));
    EXPECT_EQ(next_restart_delay(milliseconds(100), milliseconds(5)), milliseconds(200));
    EXPECT_EQ(next_restart_delay(milliseconds(51200), milliseconds(5)), milliseconds(60000));
    EXPECT_EQ(next_restart_delay(milliseconds(60000), milliseconds(5)), milliseconds(60000));
    EXPECT_EQ(next_restart_delay(milliseconds(6400), milliseconds(10000)), milliseconds(100))
        << "a run of 10 s starts the backoff afresh";
}

} // namespace
} // namespace berth::engine
