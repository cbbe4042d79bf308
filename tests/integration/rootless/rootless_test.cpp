// Rootless containers: `berth-runtime spec --rootless` and then every
// command as an unprivileged user whose user namespace maps only its own
// uid. Root inside is that user outside, with no capability over anything
// the user does not own; sysfs is the host's, bound read-only; and cgroups
// the user cannot write are skipped with a warning, as runc and crun do.
#include <fstream>
#include <sys/stat.h>

#include "rootless_fixture.hpp"

namespace berth_it {
namespace {

using berth_test::Bundle;
using berth_test::parse_probe_output;

// "0 1000 1" from a uid_map's padded columns.
std::string squeeze(const std::string& text) {
    std::string out;
    for (char c : text) {
        bool space = c == ' ' || c == '\t' || c == '\n';
        if (space && (out.empty() || out.back() == ' ')) continue;
        out += space ? ' ' : c;
    }
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

// The line of /proc/PID/status that starts with `field`.
std::string status_line(pid_t pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind(field + ":", 0) == 0) return squeeze(line.substr(field.size() + 1));
    return "";
}

const json* mount_at(const json& report, const std::string& target) {
    const json* found = nullptr; // the last one: mounts stack
    for (const auto& mount : report["mounts"])
        if (mount.value("target", "") == target) found = &mount;
    return found;
}

json all_capabilities() {
    json caps = json::array();
    for (const char* name :
         {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
          "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_ADMIN", "CAP_NET_RAW",
          "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE", "CAP_MKNOD",
          "CAP_AUDIT_WRITE", "CAP_SETFCAP"})
        caps.push_back(name);
    return caps;
}

TEST_F(RootlessTest, SpecRootlessMapsOnlyTheCallingUser) {
    Bundle bundle;
    make_rootless_bundle(bundle, {"/probe"});
    const json& linux = bundle.config()["linux"];
    json one_id_mapped = json::array({{{"containerID", 0}, {"hostID", user().uid}, {"size", 1}}});
    EXPECT_EQ(linux["uidMappings"], one_id_mapped);
    one_id_mapped[0]["hostID"] = user().gid;
    EXPECT_EQ(linux["gidMappings"], one_id_mapped);
    std::set<std::string> namespaces;
    for (const auto& ns : linux["namespaces"])
        namespaces.insert(ns["type"]);
    EXPECT_TRUE(namespaces.count("user"));
    // A network namespace of its own would leave a rootless container offline.
    EXPECT_FALSE(namespaces.count("network"));
    EXPECT_FALSE(linux.contains("resources")) << "device rules need a cgroup the user has not";
}

TEST_F(RootlessTest, RootInsideIsTheUserOutside) {
    Bundle bundle;
    make_rootless_bundle(bundle, {"/probe"});
    auto r = user_runtime({"run", "--bundle", bundle.path(), make_id("who")});
    ASSERT_EQ(r.exit_code, 0) << r;
    json report = parse_probe_output(r.out);
    EXPECT_EQ(report["uid"], 0);
    EXPECT_EQ(report["gid"], 0);

    std::string id = make_id("maps");
    bundle.config()["process"]["args"] = {"/probe", "sleep", "30"};
    fs::path shared = bundle.path() / "shared";
    fs::create_directory(shared);
    hand_over(shared, user());
    bundle.config()["mounts"].push_back({{"destination", "/shared"},
                                         {"type", "bind"},
                                         {"source", shared.string()},
                                         {"options", {"bind", "rw"}}});
    bundle.write_config();
    r = user_runtime({"run", "--detach", "--bundle", bundle.path(), id});
    ASSERT_EQ(r.exit_code, 0) << r;
    std::string uid = std::to_string(user().uid), gid = std::to_string(user().gid);
    auto map = user_runtime({"exec", id, "/probe", "cat", "/proc/self/uid_map"});
    EXPECT_EQ(squeeze(map.out), "0 " + uid + " 1") << map;
    map = user_runtime({"exec", id, "/probe", "cat", "/proc/self/gid_map"});
    EXPECT_EQ(squeeze(map.out), "0 " + gid + " 1") << map;
    // From the host: the init is the user, in a user namespace of its own.
    pid_t pid = state(id).value("pid", 0);
    ASSERT_GT(pid, 0);
    EXPECT_EQ(status_line(pid, "Uid"), uid + " " + uid + " " + uid + " " + uid);
    EXPECT_EQ(status_line(pid, "Gid"), gid + " " + gid + " " + gid + " " + gid);
    EXPECT_NE(fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/user"),
              fs::read_symlink("/proc/self/ns/user"));
    EXPECT_EQ(state(id).value("owner", ""), uid) << "state.owner names the user";
    // What root makes inside belongs to the user outside.
    auto made = user_runtime({"exec", id, "/probe", "write", "/shared/made-inside", "x"});
    ASSERT_EQ(made.exit_code, 0) << made;
    struct stat made_inside {};
    ASSERT_EQ(::stat((shared / "made-inside").c_str(), &made_inside), 0);
    EXPECT_EQ(made_inside.st_uid, user().uid);
    EXPECT_EQ(made_inside.st_gid, user().gid);
}

// Full capabilities inside are full only over what the user namespace owns.
TEST_F(RootlessTest, NoCapabilitiesOutsideItsUserNamespace) {
    Bundle bundle;
    make_rootless_bundle(bundle, {"/probe", "sleep", "30"});
    auto& config = bundle.config();
    for (const char* set : {"bounding", "effective", "permitted"})
        config["process"]["capabilities"][set] = all_capabilities();
    config["mounts"].push_back({{"destination", "/tmp"},
                                {"type", "tmpfs"},
                                {"source", "tmpfs"},
                                {"options", {"nosuid", "nodev"}}});
    // A file of the host's root, bound in writable: only permissions stop it.
    fs::path host_file = bundle.path() / "host-roots-file";
    std::ofstream(host_file) << "root's\n";
    ASSERT_EQ(::chown(host_file.c_str(), 0, 0), 0);
    ASSERT_EQ(::chmod(host_file.c_str(), 0644), 0);
    config["mounts"].push_back({{"destination", "/host-roots-file"},
                                {"type", "bind"},
                                {"source", host_file.string()},
                                {"options", {"bind", "rw"}}});
    bundle.write_config();
    std::string id = make_id("caps");
    auto r = user_runtime({"run", "--detach", "--bundle", bundle.path(), id});
    ASSERT_EQ(r.exit_code, 0) << r;

    auto report = parse_probe_output(user_runtime({"exec", id, "/probe"}).out);
    auto effective = std::stoull(report["caps"]["effective"].get<std::string>(), nullptr, 16);
    for (int cap : {1 /* DAC_OVERRIDE */, 21 /* SYS_ADMIN */, 27 /* MKNOD */})
        EXPECT_TRUE(effective >> cap & 1) << "capability " << cap << " is effective inside";
    auto write = user_runtime({"exec", id, "/probe", "write", "/host-roots-file", "mine"});
    EXPECT_NE(write.err.find("EACCES"), std::string::npos)
        << "CAP_DAC_OVERRIDE inside is no override over a host root's file\n"
        << write;
    EXPECT_EQ(read_text(host_file), "root's\n");
    auto mknod = user_runtime({"exec", id, "/bin/busybox", "mknod", "/tmp/null", "c", "1", "3"});
    EXPECT_NE(mknod.exit_code, 0);
    EXPECT_NE(mknod.err.find("Operation not permitted"), std::string::npos)
        << "CAP_MKNOD inside makes no device\n"
        << mknod;
    // Only one id is mapped: there is no other owner to give a file to.
    auto chown = user_runtime({"exec", id, "sh", "-c", "touch /tmp/f && chown 1 /tmp/f"});
    EXPECT_NE(chown.exit_code, 0) << chown;
    EXPECT_NE(chown.err.find("Invalid argument"), std::string::npos) << chown;
    // What the namespace does own, the capabilities do rule: its hostname.
    auto hostname = user_runtime({"exec", id, "hostname", "renamed"});
    EXPECT_EQ(hostname.exit_code, 0) << hostname;
}

// sysfs cannot be mounted without owning the network namespace, so the
// host's /sys is bound in, read-only: as spec --rootless writes it, and as
// the runtime falls back to when a config asks for a fresh sysfs.
TEST_F(RootlessTest, SysIsTheHostsSysfsBoundReadOnly) {
    for (bool fresh_sysfs : {false, true}) {
        SCOPED_TRACE(fresh_sysfs ? "config asks for a fresh sysfs" : "spec --rootless");
        Bundle bundle;
        make_rootless_bundle(bundle, {"/probe"});
        if (fresh_sysfs) {
            for (auto& mount : bundle.config()["mounts"])
                if (mount["destination"] == "/sys")
                    mount = {{"destination", "/sys"},
                             {"type", "sysfs"},
                             {"source", "sysfs"},
                             {"options", {"nosuid", "noexec", "nodev", "ro"}}};
            bundle.write_config();
        }
        auto r = user_runtime({"run", "--bundle", bundle.path(), make_id("sys")});
        ASSERT_EQ(r.exit_code, 0) << r;
        json report = parse_probe_output(r.out);
        const json* sys = mount_at(report, "/sys");
        ASSERT_NE(sys, nullptr);
        EXPECT_EQ((*sys)["fstype"], "sysfs");
        EXPECT_EQ((*sys)["options"].get<std::string>().rfind("ro,", 0), 0u) << *sys;

        // Creating is refused by the mount before any permission is looked at.
        bundle.config()["process"]["args"] = {"mkdir", "/sys/berth-test"};
        bundle.write_config();
        r = user_runtime({"run", "--bundle", bundle.path(), make_id("sysw")});
        EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r;
    }
}

TEST_F(RootlessTest, CgroupsItCannotWriteAreSkippedWithAWarning) {
    Bundle bundle;
    make_rootless_bundle(bundle, {"/probe", "sleep", "30"});
    std::string id = make_id("nocg");
    bundle.config()["linux"]["cgroupsPath"] = "/berth-rootless-test/" + id;
    bundle.config()["linux"]["resources"] = {{"memory", {{"limit", 64 << 20}}},
                                             {"pids", {{"limit", 50}}}};
    bundle.write_config();
    auto r = user_runtime({"run", "--detach", "--bundle", bundle.path(), id});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_NE(r.err.find("warning"), std::string::npos) << r;
    EXPECT_NE(r.err.find("no cgroup for a rootless container"), std::string::npos) << r;
    EXPECT_EQ(state(id).value("status", ""), "running");
    std::error_code ignored;
    for (const auto& hierarchy : fs::directory_iterator("/sys/fs/cgroup", ignored))
        EXPECT_FALSE(fs::exists(hierarchy.path() / "berth-rootless-test", ignored))
            << hierarchy.path();
    EXPECT_FALSE(fs::exists("/sys/fs/cgroup/berth-rootless-test", ignored));
    // What needs a cgroup says there is none, rather than acting on another.
    auto pause = user_runtime({"pause", id});
    EXPECT_NE(pause.exit_code, 0);
    EXPECT_NE(pause.err.find("no cgroup"), std::string::npos) << pause;
}

TEST_F(RootlessTest, LifecycleAsTheUser) {
    Bundle bundle;
    make_rootless_bundle(bundle, {"/probe", "sleep", "30"});
    std::string id = make_id("life");
    fs::path pid_file = root() / "init.pid";
    auto r = user_runtime({"create", "--bundle", bundle.path(), "--pid-file", pid_file, id});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(state(id).value("status", ""), "created");
    EXPECT_EQ(std::to_string(state(id).value("pid", 0)), read_text(pid_file));
    auto listed = user_runtime({"list", "-q"});
    EXPECT_EQ(listed.out, id + "\n") << listed;
    ASSERT_EQ(user_runtime({"start", id}).exit_code, 0);
    EXPECT_EQ(wait_for_status(id, "running"), "running");
    auto exec = user_runtime({"exec", id, "/probe"});
    ASSERT_EQ(exec.exit_code, 0) << exec;
    json inside = parse_probe_output(exec.out);
    EXPECT_EQ(inside["uid"], 0);
    pid_t pid = state(id).value("pid", 0);
    EXPECT_EQ(inside["namespaces"]["user"],
              fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/user").string())
        << "exec joins the container's user namespace";
    ASSERT_EQ(user_runtime({"kill", id, "KILL"}).exit_code, 0);
    EXPECT_EQ(wait_for_status(id, "stopped"), "stopped");
    auto deleted = user_runtime({"delete", id});
    ASSERT_EQ(deleted.exit_code, 0) << deleted;
    EXPECT_FALSE(fs::exists(root() / id));
}

// An unprivileged user may map its own id and nothing else; asking for more
// fails at create, with the reason, and leaves nothing behind.
TEST_F(RootlessTest, MappingAnIdTheUserDoesNotOwnFailsCleanly) {
    Bundle bundle;
    make_rootless_bundle(bundle, {"/probe"});
    bundle.config()["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 0}, {"size", 1}}};
    bundle.write_config();
    std::string id = make_id("badmap");
    auto r = user_runtime({"run", "--bundle", bundle.path(), id});
    EXPECT_NE(r.exit_code, 0) << r;
    EXPECT_NE(r.err.find("uid_map"), std::string::npos) << r;
    EXPECT_TRUE(listed_ids().empty());
    EXPECT_FALSE(fs::exists(root() / id));
    EXPECT_TRUE(living_children().empty()) << "no init may outlive a failed create";
}

// runc and crun keep an unprivileged user's state in $XDG_RUNTIME_DIR/runc
// and $XDG_RUNTIME_DIR/crun, since /run is root's; a rootless user of
// berth-runtime does not need --root either.
TEST_F(RootlessTest, WithoutRootTheStateGoesUnderXdgRuntimeDir) {
    Bundle bundle;
    make_rootless_bundle(bundle, {"/probe", "sleep", "30"});
    std::string id = make_id("xdg");
    auto r = as_user({runtime_path(), "run", "--detach", "--bundle", bundle.path(), id});
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_TRUE(fs::exists(home() / "berth-runtime" / id));
    auto deleted = as_user({runtime_path(), "delete", "--force", id});
    EXPECT_EQ(deleted.exit_code, 0) << deleted;
}

} // namespace
} // namespace berth_it
