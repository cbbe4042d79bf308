// `exec`: a second process inside a running container, seen from inside by
// the probe: same namespaces as the init, its own user, env, cwd and fds,
// and its exit status handed back.
#include <fstream>
#include <string>

#include "runtime_fixture.hpp"

namespace berth_it {
namespace {

using berth_test::Bundle;

class Exec : public RuntimeTest {
  protected:
    // A running container whose init sleeps; returns its id.
    std::string start_sleeper(Bundle& bundle) {
        bundle.config()["process"]["args"] = {"/probe", "sleep", "30"};
        bundle.write_config();
        std::string id = make_id("exec");
        auto r = runtime({"run", "--detach", "--bundle", bundle.path(), id});
        EXPECT_EQ(r.exit_code, 0) << r;
        return id;
    }

    json probe_in(const std::string& id, std::vector<std::string> extra_flags = {}) {
        std::vector<std::string> args = {"exec"};
        args.insert(args.end(), extra_flags.begin(), extra_flags.end());
        args.push_back(id);
        args.push_back("/probe");
        auto r = runtime(args);
        EXPECT_EQ(r.exit_code, 0) << r;
        return berth_test::parse_probe_output(r.out);
    }
};

// The exec'd process shares every namespace of the init, not the host's.
TEST_F(Exec, JoinsTheContainersNamespaces) {
    Bundle bundle;
    std::string id = start_sleeper(bundle);
    json init = state(id);
    pid_t init_pid = init.value("pid", 0);
    json inside = probe_in(id);
    for (const char* ns : {"pid", "mnt", "net", "uts", "ipc"}) {
        std::string init_ns = fs::read_symlink("/proc/" + std::to_string(init_pid) + "/ns/" + ns);
        EXPECT_EQ(inside["namespaces"][ns], init_ns) << ns;
    }
    EXPECT_EQ(inside["hostname"], "berth-test");
    EXPECT_GT(inside["pid"].get<int>(), 1); // not the init, but in its pid namespace
    EXPECT_LT(inside["pid"].get<int>(), 100);
}

// Exit status, user, env, cwd: each option reaches the process.
TEST_F(Exec, OptionsShapeTheProcess) {
    Bundle bundle;
    std::string id = start_sleeper(bundle);
    auto r = runtime({"exec", id, "sh", "-c", "exit 9"});
    EXPECT_EQ(r.exit_code, 9) << r;

    json inside = probe_in(id, {"--user", "65534:65534", "--env", "GREETING=hi", "--cwd", "/bin"});
    EXPECT_EQ(inside["uid"], 65534);
    EXPECT_EQ(inside["gid"], 65534);
    EXPECT_EQ(inside["cwd"], "/bin");
    bool found = false;
    for (const auto& entry : inside["env"])
        found |= entry == "GREETING=hi";
    EXPECT_TRUE(found) << inside["env"];
    // A non-root user keeps no capabilities (none are ambient).
    EXPECT_EQ(inside["caps"]["effective"], "0000000000000000");
}

// No host fd reaches an exec'd process either (the class of CVE-2024-21626).
TEST_F(Exec, NoHostFdsLeakIn) {
    Bundle bundle;
    std::string id = start_sleeper(bundle);
    auto r = berth_test::run_command({"/bin/sh", "-c",
                                      "exec 7</; exec \"$0\" --root \"$1\" exec \"$2\" /probe",
                                      runtime_path(), root().string(), id});
    ASSERT_EQ(r.exit_code, 0) << r;
    EXPECT_EQ(probe_fds(berth_test::parse_probe_output(r.out)), (std::set<int>{0, 1, 2}));
}

TEST_F(Exec, MissingCommandFailsClearly) {
    Bundle bundle;
    std::string id = start_sleeper(bundle);
    auto r = runtime({"exec", id, "no-such-program"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("executable file not found"), std::string::npos) << r;
}

// Once the init has exited there is nothing to enter.
TEST_F(Exec, IntoAStoppedContainerFails) {
    Bundle bundle;
    std::string id = start_sleeper(bundle);
    ASSERT_EQ(runtime({"kill", id, "KILL"}).exit_code, 0);
    ASSERT_EQ(wait_for_status(id, "stopped"), "stopped");
    auto r = runtime({"exec", id, "true"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("stopped"), std::string::npos) << r;
}

// --process gives the whole process; --detach returns while it runs, with
// its pid in --pid-file.
TEST_F(Exec, ProcessFileAndDetach) {
    Bundle bundle;
    std::string id = start_sleeper(bundle);
    fs::path process = bundle.path() / "process.json";
    {
        json p = {{"args", {"/probe", "sleep", "30"}},
                  {"cwd", "/"},
                  {"env", {"PATH=/bin"}},
                  {"user", {{"uid", 0}, {"gid", 0}}}};
        std::ofstream(process) << p.dump();
    }
    fs::path pid_file = bundle.path() / "exec.pid";
    auto r = runtime({"exec", "--detach", "--process", process, "--pid-file", pid_file, id});
    ASSERT_EQ(r.exit_code, 0) << r;
    pid_t pid = std::stoi(read_text(pid_file));
    EXPECT_TRUE(process_running(pid));
    ASSERT_EQ(runtime({"delete", "--force", id}).exit_code, 0);
    // The pid namespace's end takes the exec'd process with it.
    EXPECT_TRUE(wait_process_gone(pid));
}

} // namespace
} // namespace berth_it

namespace berth_it {
namespace {

// CVE-2022-29162: capabilities given to an exec'd process must not land in
// its inheritable or ambient sets, where a non-root program executed later
// would pick them up.
TEST_F(Exec, AddedCapabilitiesStayOutOfInheritableAndAmbient) {
    Bundle bundle;
    std::string id = start_sleeper(bundle);
    json root = probe_in(id, {"--cap", "CAP_SYS_ADMIN"});
    EXPECT_EQ(root["caps"]["inheritable"], "0000000000000000");
    EXPECT_EQ(root["caps"]["ambient"], "0000000000000000");
    EXPECT_NE(std::stoull(root["caps"]["effective"].get<std::string>(), nullptr, 16) & (1ULL << 21),
              0u)
        << "CAP_SYS_ADMIN was asked for";
    json user = probe_in(id, {"--cap", "CAP_SYS_ADMIN", "--user", "1000:1000"});
    EXPECT_EQ(user["caps"]["effective"], "0000000000000000");
    EXPECT_EQ(user["caps"]["permitted"], "0000000000000000");
}

} // namespace
} // namespace berth_it
