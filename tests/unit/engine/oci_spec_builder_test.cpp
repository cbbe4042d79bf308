// Request + image config -> config.json, checked field by field and then
// against the runtime's own parser, the contract the spec must meet.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/engine/oci_spec_builder.h"
#include "berth/oci/runtime_spec.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace berth;
using namespace berth::engine;
using nlohmann::json;

namespace {

oci::ContainerConfig busybox_config() {
    oci::ContainerConfig config;
    config.env = {"PATH=/bin:/usr/bin", "LANG=C"};
    config.cmd = {"sh"};
    return config;
}

SpecInputs inputs() {
    SpecInputs in;
    in.id = std::string(64, 'a');
    in.hostname = "aaaaaaaaaaaa";
    in.user.home = "/root";
    in.hostname_file = "/tmp/h";
    in.hosts_file = "/tmp/hosts";
    in.resolv_conf_file = "/tmp/resolv";
    in.seccomp_profile = json::parse(read_file(BERTH_SECCOMP_DEFAULT_PROFILE));
    in.nofile_hard_limit = 4096;
    return in;
}

bool contains(const json& list, const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

} // namespace

TEST(ProcessArgs, ImageCmdUnlessReplaced) {
    RunRequest request;
    EXPECT_EQ(process_args(request, busybox_config()), (std::vector<std::string>{"sh"}));
    request.command = {"echo", "hi"};
    EXPECT_EQ(process_args(request, busybox_config()), (std::vector<std::string>{"echo", "hi"}));
}

TEST(ProcessArgs, EntrypointAndCmdCombine) {
    auto image = busybox_config();
    image.entrypoint = {"/entry", "-x"};
    RunRequest request;
    EXPECT_EQ(process_args(request, image), (std::vector<std::string>{"/entry", "-x", "sh"}));
    request.command = {"a"};
    EXPECT_EQ(process_args(request, image), (std::vector<std::string>{"/entry", "-x", "a"}));
}

TEST(ProcessArgs, NewEntrypointDropsImageCmd) {
    RunRequest request;
    request.entrypoint_given = true;
    request.entrypoint = {"/bin/true"};
    EXPECT_EQ(process_args(request, busybox_config()), (std::vector<std::string>{"/bin/true"}));
    request.entrypoint = {};
    EXPECT_THROW(process_args(request, busybox_config()), Error) << "\"\" and no command";
}

TEST(ProcessEnv, ImageThenRequestWithDefaults) {
    RunRequest request;
    request.env = {"LANG=en", "FOO=1"};
    auto env = process_env(request, busybox_config(), inputs());
    EXPECT_EQ(env, (std::vector<std::string>{"HOSTNAME=aaaaaaaaaaaa", "PATH=/bin:/usr/bin",
                                             "LANG=en", "FOO=1", "HOME=/root"}));
    oci::ContainerConfig bare;
    bare.cmd = {"x"};
    auto defaults = process_env(RunRequest{}, bare, inputs());
    EXPECT_TRUE(defaults.front().starts_with("PATH=/usr/local/sbin:"));
}

TEST(Capabilities, DockerDefaultsAddAndDrop) {
    RunRequest request;
    auto defaults = effective_capabilities(request);
    EXPECT_EQ(defaults.size(), 14u);
    EXPECT_FALSE(contains(json(defaults), "CAP_SYS_ADMIN"));
    request.cap_add = {"sys_admin", "CAP_NET_ADMIN"};
    request.cap_drop = {"NET_RAW"};
    auto changed = effective_capabilities(request);
    EXPECT_TRUE(contains(json(changed), "CAP_SYS_ADMIN"));
    EXPECT_TRUE(contains(json(changed), "CAP_NET_ADMIN"));
    EXPECT_FALSE(contains(json(changed), "CAP_NET_RAW"));
    request.cap_drop = {"ALL"};
    request.cap_add = {"CHOWN"};
    EXPECT_EQ(effective_capabilities(request), (std::vector<std::string>{"CAP_CHOWN"}));
    request.cap_add = {"NOPE"};
    EXPECT_THROW(effective_capabilities(request), Error);
}

TEST(Capabilities, PrivilegedMeansWhatTheHostHas) {
    RunRequest request;
    request.privileged = true;
    EXPECT_EQ(effective_capabilities(request), all_capabilities());
    EXPECT_EQ(effective_capabilities(request, {"CAP_CHOWN", "CAP_KILL"}),
              (std::vector<std::string>{"CAP_CHOWN", "CAP_KILL"}));
}

TEST(Spec, DefaultsLikeDocker) {
    RunRequest request;
    request.command = {"echo", "hi"};
    json spec = build_oci_spec(request, busybox_config(), inputs());
    EXPECT_EQ(spec["process"]["args"], json({"echo", "hi"}));
    EXPECT_EQ(spec["process"]["cwd"], "/");
    EXPECT_EQ(spec["process"]["noNewPrivileges"], false);
    EXPECT_EQ(spec["process"]["rlimits"][0]["hard"], 4096) << "never above the host's hard limit";
    EXPECT_EQ(spec["hostname"], "aaaaaaaaaaaa");
    EXPECT_EQ(spec["root"]["readonly"], false);
    EXPECT_EQ(spec["linux"]["cgroupsPath"], "/berth/" + std::string(64, 'a'));
    EXPECT_TRUE(contains(spec["linux"]["maskedPaths"], "/proc/kcore"));
    EXPECT_TRUE(contains(spec["linux"]["readonlyPaths"], "/proc/sys"));
    EXPECT_EQ(spec["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
    std::vector<std::string> namespaces;
    for (const auto& ns : spec["linux"]["namespaces"])
        namespaces.push_back(ns["type"]);
    EXPECT_TRUE(contains(json(namespaces), "network"))
        << "bridge: an empty netns until networks exist";
    std::vector<std::string> destinations;
    for (const auto& mount : spec["mounts"])
        destinations.push_back(mount["destination"]);
    for (const char* path : {"/proc", "/dev", "/dev/pts", "/sys", "/dev/shm", "/etc/hosts",
                             "/etc/hostname", "/etc/resolv.conf"})
        EXPECT_TRUE(contains(json(destinations), path)) << path;
    EXPECT_FALSE(spec["linux"]["resources"].contains("memory"));
}

TEST(Spec, FlagsBecomeLimitsAndConfinement) {
    RunRequest request;
    request.memory_bytes = parse_memory_size("64m");
    request.pids_limit = 50;
    request.cpus = 1.5;
    request.read_only = true;
    request.no_new_privileges = true;
    request.network = "host";
    request.workdir = "/work";
    request.cgroup_parent = "berth-test-1";
    request.seccomp = "unconfined";
    SpecInputs in = inputs();
    in.user.uid = 65534;
    in.user.gid = 65534;
    in.user.additional_gids = {10};
    json spec = build_oci_spec(request, busybox_config(), in);
    EXPECT_EQ(spec["linux"]["resources"]["memory"]["limit"], 64 << 20);
    EXPECT_EQ(spec["linux"]["resources"]["pids"]["limit"], 50);
    EXPECT_EQ(spec["linux"]["resources"]["cpu"]["quota"], 150000);
    EXPECT_EQ(spec["linux"]["resources"]["cpu"]["period"], 100000);
    EXPECT_EQ(spec["root"]["readonly"], true);
    EXPECT_EQ(spec["process"]["noNewPrivileges"], true);
    EXPECT_EQ(spec["process"]["cwd"], "/work");
    EXPECT_EQ(spec["process"]["user"]["uid"], 65534);
    EXPECT_EQ(spec["process"]["user"]["additionalGids"], json({10}));
    EXPECT_EQ(spec["linux"]["cgroupsPath"], "berth-test-1/" + std::string(64, 'a'));
    EXPECT_FALSE(spec["linux"].contains("seccomp"));
    for (const auto& ns : spec["linux"]["namespaces"])
        EXPECT_NE(ns["type"], "network");
}

TEST(Spec, PrivilegedDropsMasksAndSeccomp) {
    RunRequest request;
    request.privileged = true;
    json spec = build_oci_spec(request, busybox_config(), inputs());
    EXPECT_FALSE(spec["linux"].contains("maskedPaths"));
    EXPECT_FALSE(spec["linux"].contains("seccomp"));
    EXPECT_FALSE(spec["linux"]["resources"].contains("devices"));
}

TEST(Spec, TheRuntimeAcceptsIt) {
    RunRequest request;
    request.memory_bytes = 1 << 30;
    oci::Spec parsed = oci::parse_spec(build_oci_spec(request, busybox_config(), inputs()).dump());
    ASSERT_TRUE(parsed.process);
    EXPECT_EQ(parsed.process->args, (std::vector<std::string>{"sh"}));
    EXPECT_EQ(parsed.process->user.umask, 022u);
    EXPECT_TRUE(parsed.linux.find_namespace("mount"));
}

TEST(Spec, RelativeWorkdirIsRefused) {
    RunRequest request;
    request.workdir = "relative";
    EXPECT_THROW(build_oci_spec(request, busybox_config(), inputs()), Error);
}

TEST(MemorySize, Units) {
    EXPECT_EQ(parse_memory_size("1024"), 1024);
    EXPECT_EQ(parse_memory_size("512m"), 512 << 20);
    EXPECT_EQ(parse_memory_size("1G"), 1LL << 30);
    EXPECT_EQ(parse_memory_size("2kb"), 2048);
    EXPECT_THROW(parse_memory_size("lots"), Error);
    EXPECT_THROW(parse_memory_size("5q"), Error);
}
