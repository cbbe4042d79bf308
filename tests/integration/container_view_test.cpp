// What the container process sees: the probe reports its identity, fds,
// capabilities, limits, namespaces and mounts, and each test compares one
// aspect with what the bundle's config.json asks for.
#include <cstdint>
#include <sstream>
#include <string>

#include <unistd.h>

#include "runtime_fixture.hpp"

namespace berth_it {
namespace {

using berth_test::Bundle;

class ContainerView : public RuntimeTest {
  protected:
    // Runs `args` in a fresh container from bundle; expects success.
    CommandResult run_in(Bundle& bundle, json args, const std::string& stem = "view") {
        bundle.config()["process"]["args"] = std::move(args);
        bundle.write_config();
        return runtime({"run", make_id(stem), "--bundle", bundle.path()});
    }

    // Runs the probe in a default bundle and returns its report.
    json probe_report(Bundle& bundle) {
        auto r = run_in(bundle, {"/probe"});
        EXPECT_EQ(r.exit_code, 0) << r;
        return berth_test::parse_probe_output(r.out);
    }
};

// The last mount at target (later mounts hide earlier ones), or null.
json mount_at(const json& report, const std::string& target) {
    json found;
    for (const auto& m : report.at("mounts"))
        if (m.at("target") == target) found = m;
    return found;
}

// Per-mount options ("ro,nosuid,...") split on commas.
std::set<std::string> options_of(const json& mount) {
    std::set<std::string> opts;
    std::istringstream in(mount.at("options").get<std::string>());
    for (std::string opt; std::getline(in, opt, ',');)
        opts.insert(opt);
    return opts;
}

uint64_t cap_mask(const json& report, const char* set) {
    return std::stoull(report.at("caps").at(set).get<std::string>(), nullptr, 16);
}

std::string host_namespace(const std::string& name) {
    return fs::read_symlink("/proc/self/ns/" + name).string();
}

// The process is the pid namespace's init, with the configured hostname,
// user, cwd, and nothing but stdio open.
TEST_F(ContainerView, ProcessIdentity) {
    Bundle bundle;
    json j = probe_report(bundle);
    EXPECT_EQ(j.at("pid"), 1);
    EXPECT_EQ(j.at("hostname"), "berth-test");
    EXPECT_EQ(j.at("uid"), 0);
    EXPECT_EQ(j.at("gid"), 0);
    EXPECT_EQ(j.at("cwd"), "/");
    EXPECT_EQ(probe_fds(j), (std::set<int>{0, 1, 2})) << j.at("fds").dump();
}

// Exactly the configured capability sets (runc spec's minimal three), none
// inheritable or ambient, and no_new_privs as configured.
TEST_F(ContainerView, CapabilitiesAreExactlyTheConfiguredSet) {
    Bundle bundle;
    json j = probe_report(bundle);
    // CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10).
    constexpr uint64_t kWanted = (1ULL << 29) | (1ULL << 5) | (1ULL << 10);
    EXPECT_EQ(cap_mask(j, "effective"), kWanted) << j.at("caps");
    EXPECT_EQ(cap_mask(j, "permitted"), kWanted) << j.at("caps");
    EXPECT_EQ(cap_mask(j, "bounding"), kWanted) << j.at("caps");
    EXPECT_EQ(cap_mask(j, "inheritable"), 0u) << j.at("caps");
    EXPECT_EQ(cap_mask(j, "ambient"), 0u) << j.at("caps");
    EXPECT_EQ(j.at("no_new_privs"), 1);
}

// process.rlimits is applied: an unusual 900/1000 that no host default
// matches, and the default config's 1024/1024.
TEST_F(ContainerView, RlimitsAreApplied) {
    Bundle bundle;
    bundle.config()["process"]["rlimits"] = {
        {{"type", "RLIMIT_NOFILE"}, {"hard", 1000}, {"soft", 900}}};
    json j = probe_report(bundle);
    EXPECT_EQ(j.at("rlimits").at("RLIMIT_NOFILE"), (json{{"soft", 900}, {"hard", 1000}}));

    Bundle plain;
    json d = probe_report(plain);
    EXPECT_EQ(d.at("rlimits").at("RLIMIT_NOFILE"), (json{{"soft", 1024}, {"hard", 1024}}));
}

// Every namespace the config lists is new; those it does not list are the
// runtime's (and so this test's) own.
TEST_F(ContainerView, NamespacesAreTheConfiguredOnes) {
    Bundle bundle;
    json j = probe_report(bundle);
    const json& ns = j.at("namespaces");
    for (const char* name : {"pid", "mnt", "net", "uts", "ipc"})
        EXPECT_NE(ns.at(name), host_namespace(name)) << name << " namespace not unshared";
    for (const char* name : {"user", "cgroup"})
        EXPECT_EQ(ns.at(name), host_namespace(name)) << name << " namespace unshared unasked";
}

// The configured mounts, masked paths and read-only paths are in place.
TEST_F(ContainerView, MountsMaskedAndReadonlyPaths) {
    Bundle bundle;
    json j = probe_report(bundle);
    EXPECT_EQ(mount_at(j, "/proc").value("fstype", ""), "proc") << j.at("mounts");
    EXPECT_EQ(mount_at(j, "/dev").value("fstype", ""), "tmpfs") << j.at("mounts");
    EXPECT_EQ(mount_at(j, "/dev/pts").value("fstype", ""), "devpts") << j.at("mounts");
    EXPECT_EQ(mount_at(j, "/sys").value("fstype", ""), "sysfs") << j.at("mounts");
    // maskedPaths: something is mounted over each one. Only paths this
    // kernel has (it lacks /proc/kcore, for one) can be checked; the host's
    // /proc and /sys show which those are.
    int masked = 0;
    for (const auto& path : bundle.config()["linux"]["maskedPaths"]) {
        if (!fs::exists(path.get<std::string>())) continue;
        ++masked;
        EXPECT_FALSE(mount_at(j, path).is_null()) << path << " not masked";
    }
    EXPECT_GE(masked, 3) << "too few masked paths exist here to test masking";
    // readonlyPaths: /proc/sys is a read-only mount.
    json sys = mount_at(j, "/proc/sys");
    ASSERT_FALSE(sys.is_null()) << "/proc/sys not remounted";
    EXPECT_TRUE(options_of(sys).count("ro")) << sys;
    // root.readonly
    EXPECT_TRUE(options_of(mount_at(j, "/")).count("ro")) << mount_at(j, "/");
}

// /dev is populated: /dev/null is a character device that accepts writes.
TEST_F(ContainerView, DevNullIsUsable) {
    Bundle bundle;
    auto r = run_in(bundle, {"sh", "-c", "test -c /dev/null && echo data > /dev/null && echo ok"});
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(r.out, "ok\n") << r;
}

// root.readonly: writing into the root filesystem fails with EROFS, and
// nothing appears in the bundle's rootfs.
TEST_F(ContainerView, RootIsReadOnly) {
    Bundle bundle;
    auto r = run_in(bundle, {"/probe", "write", "/probe-test-file", "x"});
    EXPECT_NE(r.exit_code, 0) << r;
    EXPECT_NE(r.err.find("EROFS"), std::string::npos) << r;
    EXPECT_FALSE(fs::exists(bundle.rootfs() / "probe-test-file"));
}

// A user namespace mapping container root to host uid/gid 100000: inside
// the process is uid 0, and the kernel shows the configured mapping.
TEST_F(ContainerView, UserNamespaceMapsRootToHostRange) {
    Bundle bundle;
    // The rootfs must belong to the mapped root (lchown: do not follow the
    // busybox applet symlinks).
    ASSERT_EQ(::lchown(bundle.rootfs().c_str(), 100000, 100000), 0);
    for (const auto& entry : fs::recursive_directory_iterator(bundle.rootfs()))
        ASSERT_EQ(::lchown(entry.path().c_str(), 100000, 100000), 0) << entry.path();
    json& linux_cfg = bundle.config()["linux"];
    linux_cfg["namespaces"].push_back({{"type", "user"}});
    const json mapping = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    linux_cfg["uidMappings"] = mapping;
    linux_cfg["gidMappings"] = mapping;

    json j = probe_report(bundle);
    EXPECT_EQ(j.at("uid"), 0);
    EXPECT_EQ(j.at("gid"), 0);
    EXPECT_NE(j.at("namespaces").at("user"), host_namespace("user"));

    for (const char* map : {"uid_map", "gid_map"}) {
        auto r = run_in(bundle, {"/probe", "cat", std::string("/proc/self/") + map}, map);
        ASSERT_EQ(r.exit_code, 0) << r;
        std::istringstream in(r.out);
        long inside = -1, outside = -1, size = -1;
        in >> inside >> outside >> size;
        EXPECT_EQ(inside, 0) << map << ": " << r.out;
        EXPECT_EQ(outside, 100000) << map << ": " << r.out;
        EXPECT_EQ(size, 65536) << map << ": " << r.out;
    }
}

} // namespace
} // namespace berth_it
