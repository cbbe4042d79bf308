// process.scheduler, process.ioPriority, linux.personality, and the limits of
// what a host can grant: rlimits above its ceiling and capabilities outside
// its bounding set fail create with the limit or capability named.
#include <fstream>
#include <sstream>
#include <string>

#include <sys/prctl.h>

#include "runtime_fixture.hpp"

namespace berth_it {
namespace {

using berth_test::Bundle;

class ProcessAttributes : public RuntimeTest {
  protected:
    std::string start(Bundle& bundle) {
        bundle.config()["process"]["args"] = {"/probe", "sleep", "30"};
        bundle.write_config();
        std::string id = make_id("attr");
        auto r = runtime({"run", "--detach", "--bundle", bundle.path(), id});
        EXPECT_EQ(r.exit_code, 0) << r;
        return id;
    }

    // Field `n` (1-based, as proc(5) counts) of /proc/PID/stat.
    static std::string stat_field(pid_t pid, int n) {
        std::string text = read_text("/proc/" + std::to_string(pid) + "/stat");
        std::istringstream fields(text.substr(text.rfind(')') + 2));
        std::string field;
        for (int i = 3; i <= n; ++i)
            fields >> field;
        return field;
    }
};

TEST_F(ProcessAttributes, SchedulerPolicyAndNice) {
    Bundle bundle;
    bundle.config()["process"]["scheduler"] = {{"policy", "SCHED_BATCH"}, {"nice", 7}};
    std::string id = start(bundle);
    pid_t pid = state(id).value("pid", 0);
    EXPECT_EQ(stat_field(pid, 41), "3") << "policy SCHED_BATCH";
    EXPECT_EQ(stat_field(pid, 19), "7") << "nice";
}

TEST_F(ProcessAttributes, IoPriority) {
    Bundle bundle;
    bundle.config()["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_IDLE"}, {"priority", 0}};
    std::string id = start(bundle);
    pid_t pid = state(id).value("pid", 0);
    auto r = berth_test::run_command({"ionice", "-p", std::to_string(pid)});
    if (r.exit_code == 127) GTEST_SKIP() << "no ionice on this host";
    EXPECT_NE(r.out.find("idle"), std::string::npos) << r;
}

TEST_F(ProcessAttributes, Linux32Personality) {
    Bundle bundle;
    bundle.config()["linux"]["personality"] = {{"domain", "LINUX32"}};
    bundle.config()["process"]["args"] = {"uname", "-m"};
    bundle.write_config();
    auto r = runtime({"run", "--bundle", bundle.path(), make_id("p32")});
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(r.out, "i686\n");
}

TEST_F(ProcessAttributes, BadValuesFailCreateNamingTheField) {
    Bundle bundle;
    bundle.config()["process"]["scheduler"] = {{"policy", "SCHED_SOMETIMES"}};
    bundle.write_config();
    auto r = runtime({"create", "--bundle", bundle.path(), make_id("bad")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("process.scheduler.policy"), std::string::npos) << r;
}

// An rlimit above the host's ceiling (nr_open for RLIMIT_NOFILE) fails
// create, not the container's start, and names the limit.
TEST_F(ProcessAttributes, RlimitAboveTheHostCeilingFailsCreate) {
    long nr_open = std::stol(read_text("/proc/sys/fs/nr_open"));
    Bundle bundle;
    bundle.config()["process"]["rlimits"] = {
        {{"type", "RLIMIT_NOFILE"}, {"soft", nr_open + 1}, {"hard", nr_open + 1}}};
    bundle.write_config();
    std::string id = make_id("rlim");
    auto r = runtime({"create", "--bundle", bundle.path(), id});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("RLIMIT_NOFILE"), std::string::npos) << r;
    EXPECT_EQ(listed_ids().count(id), 0u);
}

// A capability this host's bounding set lacks cannot be granted.
TEST_F(ProcessAttributes, CapabilityOutsideTheHostBoundingSetFailsCreate) {
    int missing = -1;
    const char* names[] = {"CAP_SYS_RESOURCE", "CAP_SYS_MODULE", "CAP_SYS_BOOT"};
    const int numbers[] = {24, 16, 22};
    for (int i = 0; i < 3 && missing < 0; ++i)
        if (::prctl(PR_CAPBSET_READ, numbers[i], 0, 0, 0) == 0) missing = i;
    if (missing < 0) GTEST_SKIP() << "this host's bounding set has them all";
    Bundle bundle;
    bundle.config()["process"]["capabilities"]["bounding"].push_back(names[missing]);
    bundle.write_config();
    auto r = runtime({"create", "--bundle", bundle.path(), make_id("cap")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(names[missing]), std::string::npos) << r;
}

} // namespace
} // namespace berth_it

namespace berth_it {
namespace {

// Sysctls are written before /proc/sys turns read-only (podman sets
// net.ipv4.ping_group_range with /proc/sys among the read-only paths).
TEST_F(ProcessAttributes, SysctlsUnderAReadOnlyProcSys) {
    Bundle bundle;
    bundle.config()["linux"]["sysctl"] = {{"net.ipv4.ping_group_range", "0 0"}};
    bundle.config()["process"]["args"] = {"/probe", "cat", "/proc/sys/net/ipv4/ping_group_range"};
    bundle.write_config();
    auto r = runtime({"run", "--bundle", bundle.path(), make_id("sysctl")});
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(r.out.substr(0, 1), "0") << r;
    EXPECT_EQ(r.out.find_first_not_of("0 \t\n"), std::string::npos) << r;
}

} // namespace
} // namespace berth_it
