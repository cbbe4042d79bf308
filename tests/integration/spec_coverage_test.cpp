// The rest of what config.json can ask for, each seen from inside the
// container: namespaces joined by path, a time namespace with offsets,
// linux.devices, domainname, supplementary groups and umask, oomScoreAdj,
// rootfsPropagation, and the hooks that run inside the container.
#include <fstream>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime_fixture.hpp"

namespace berth_it {
namespace {

using berth_test::Bundle;
using berth_test::TempDir;

class SpecCoverage : public RuntimeTest {
  protected:
    json probe(Bundle& bundle) {
        bundle.config()["process"]["args"] = {"/probe"};
        bundle.write_config();
        auto r = runtime({"run", "--bundle", bundle.path(), make_id("spec")});
        EXPECT_EQ(r.exit_code, 0) << r;
        return berth_test::parse_probe_output(r.out);
    }

    static void remove_namespace(Bundle& bundle, const std::string& type) {
        auto& namespaces = bundle.config()["linux"]["namespaces"];
        for (auto it = namespaces.begin(); it != namespaces.end();)
            it = (*it)["type"] == type ? namespaces.erase(it) : it + 1;
    }
};

// A network namespace made outside (as CNI and netavark do), bind-mounted on
// a file, joined by path: the container sees that one, not a new one.
TEST_F(SpecCoverage, JoinsANamespaceByPath) {
    TempDir dir("netns");
    std::string pin = (dir.path() / "net").string();
    std::ofstream(pin).close();
    pid_t child = ::fork();
    if (child == 0) {
        if (::unshare(CLONE_NEWNET) < 0) _exit(1);
        _exit(::mount("/proc/self/ns/net", pin.c_str(), nullptr, MS_BIND, nullptr) == 0 ? 0 : 2);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_EQ(WEXITSTATUS(status), 0) << "could not pin a network namespace";
    struct stat st;
    ASSERT_EQ(::stat(pin.c_str(), &st), 0);
    std::string expected = "net:[" + std::to_string(st.st_ino) + "]";

    Bundle bundle;
    remove_namespace(bundle, "network");
    bundle.config()["linux"]["namespaces"].push_back({{"type", "network"}, {"path", pin}});
    json report = probe(bundle);
    EXPECT_EQ(report["namespaces"]["net"], expected);
    ::umount2(pin.c_str(), MNT_DETACH);
}

// A time namespace with a boottime offset: the container's uptime is a day
// ahead of the host's.
TEST_F(SpecCoverage, TimeNamespaceWithOffsets) {
    Bundle bundle;
    bundle.config()["linux"]["namespaces"].push_back({{"type", "time"}});
    bundle.config()["linux"]["timeOffsets"] = {{"boottime", {{"secs", 86400}, {"nanosecs", 0}}}};
    bundle.config()["process"]["args"] = {"/probe", "cat", "/proc/uptime"};
    bundle.write_config();
    double host_uptime = std::stod(read_text("/proc/uptime"));
    auto r = runtime({"run", "--bundle", bundle.path(), make_id("time")});
    ASSERT_EQ(r.exit_code, 0) << r;
    double inside = std::stod(r.out);
    EXPECT_GT(inside, host_uptime + 86000) << r.out;
    EXPECT_LT(inside, host_uptime + 86800) << r.out;
}

TEST_F(SpecCoverage, DevicesDomainnameGroupsUmaskOomScore) {
    Bundle bundle;
    bundle.config()["linux"]["devices"] = {{{"type", "c"},
                                            {"path", "/dev/extra/null"},
                                            {"major", 1},
                                            {"minor", 3},
                                            {"fileMode", 0620},
                                            {"uid", 0},
                                            {"gid", 0}}};
    bundle.config()["domainname"] = "example.test";
    bundle.config()["process"]["user"] = {
        {"uid", 1000}, {"gid", 1000}, {"additionalGids", {5, 7}}, {"umask", 077}};
    bundle.config()["process"]["oomScoreAdj"] = 321;
    bundle.config()["process"]["args"] = {"/probe"};
    bundle.write_config();
    auto r = runtime({"run", "--bundle", bundle.path(), make_id("misc")});
    ASSERT_EQ(r.exit_code, 0) << r;
    json report = berth_test::parse_probe_output(r.out);
    EXPECT_EQ(report["domainname"], "example.test");
    EXPECT_EQ(report["groups"], json({5, 7}));
    EXPECT_EQ(report["umask"], 077);
    EXPECT_EQ(report["oom_score_adj"], 321);

    bundle.config()["process"]["user"] = {{"uid", 0}, {"gid", 0}};
    bundle.config()["process"]["args"] = {"sh", "-c",
                                          "ls -ln /dev/extra/null; echo x > /dev/extra/null"};
    bundle.write_config();
    r = runtime({"run", "--bundle", bundle.path(), make_id("dev")});
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(r.out.rfind("crw--w----", 0), 0u) << r.out;
}

// rootfsPropagation is honoured as given ("private" runs) and a value that
// is not a propagation fails create, naming the field.
// Propagation seen for real: the host mounts a tmpfs under a shared bind
// source after create. A container whose root is rslave receives it; one
// whose root is rprivate does not.
TEST_F(SpecCoverage, RootfsPropagation) {
    for (std::string propagation : {"rslave", "rprivate"}) {
        SCOPED_TRACE(propagation);
        TempDir shared("shared"), out("out");
        fs::permissions(out.path(), fs::perms::all);
        std::string source = shared.path().string(), sub = source + "/sub";
        fs::create_directories(sub);
        ASSERT_EQ(::mount(source.c_str(), source.c_str(), nullptr, MS_BIND, nullptr), 0);
        struct Unmount {
            std::string source, sub;
            ~Unmount() {
                ::umount2(sub.c_str(), MNT_DETACH);
                ::umount2(source.c_str(), MNT_DETACH);
            }
        } unmount{source, sub};
        ASSERT_EQ(::mount(nullptr, source.c_str(), nullptr, MS_SHARED, nullptr), 0);

        Bundle bundle;
        bundle.config()["linux"]["rootfsPropagation"] = propagation;
        bundle.config()["mounts"].push_back({{"destination", "/shared"},
                                             {"type", "bind"},
                                             {"source", source},
                                             {"options", {"rbind"}}});
        bundle.config()["mounts"].push_back({{"destination", "/out"},
                                             {"type", "bind"},
                                             {"source", out.path().string()},
                                             {"options", {"rbind", "rw"}}});
        bundle.config()["process"]["args"] = {
            "/bin/sh", "-c",
            "if grep -q ' /shared/sub ' /proc/self/mountinfo; then echo seen; else echo unseen; fi "
            "> /out/result"};
        bundle.write_config();
        std::string id = make_id("prop");
        auto created = runtime({"create", "--bundle", bundle.path(), id});
        ASSERT_EQ(created.exit_code, 0) << created;
        ASSERT_EQ(::mount("tmpfs", sub.c_str(), "tmpfs", 0, "size=64k"), 0);
        auto started = runtime({"start", id});
        EXPECT_EQ(started.exit_code, 0) << started;
        std::string result;
        for (int i = 0; i < 500 && result.empty(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            std::ifstream(out.path() / "result") >> result;
        }
        EXPECT_EQ(result, propagation == "rslave" ? "seen" : "unseen");
        runtime({"delete", "--force", id});
    }

    Bundle bundle;
    bundle.config()["linux"]["rootfsPropagation"] = "sideways";
    bundle.write_config();
    auto r = runtime({"create", "--bundle", bundle.path(), make_id("prop")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("rootfsPropagation"), std::string::npos) << r;
}

// createContainer runs in the container's namespaces before pivot_root;
// startContainer inside the container just before the process.
TEST_F(SpecCoverage, HooksInsideTheContainer) {
    TempDir out("hooks");
    fs::permissions(out.path(), fs::perms::all);
    Bundle bundle;
    bundle.config()["mounts"].push_back({{"destination", "/out"},
                                         {"type", "bind"},
                                         {"source", out.path().string()},
                                         {"options", {"rbind", "rw"}}});
    std::string host_file = (out.path() / "create.txt").string();
    bundle.config()["hooks"]["createContainer"] = {
        {{"path", "/bin/sh"}, {"args", {"sh", "-c", "readlink /proc/self/ns/mnt > " + host_file}}}};
    bundle.config()["hooks"]["startContainer"] = {
        {{"path", "/bin/sh"}, {"args", {"sh", "-c", "hostname > /out/start.txt"}}}};
    bundle.config()["process"]["args"] = {"/probe", "sleep", "30"};
    bundle.write_config();
    std::string id = make_id("inhooks");
    ASSERT_EQ(runtime({"run", "--detach", "--bundle", bundle.path(), id}).exit_code, 0);
    pid_t pid = state(id).value("pid", 0);
    std::string container_mnt = fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/mnt");
    EXPECT_EQ(read_text(out.path() / "create.txt"), container_mnt + "\n");
    // start returns once the init is released; its startContainer hooks run
    // after that, just before the exec.
    for (int tries = 0; tries < 500 && read_text(out.path() / "start.txt").empty(); ++tries)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(read_text(out.path() / "start.txt"), "berth-test\n");
}

} // namespace
} // namespace berth_it
