// linux.seccomp through the real runtime: berth's default profile confines
// the container's process (and an exec'd one), a broken profile fails
// create with the field named, and SCMP_ACT_NOTIFY hands the listener fd to
// an agent on the host.
#include <cstring>
#include <fstream>
#include <string>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime_fixture.hpp"

namespace berth_it {
namespace {

using berth_test::Bundle;

json default_profile() {
    std::ifstream in(BERTH_SECCOMP_DEFAULT_PROFILE);
    return json::parse(in);
}

class Seccomp : public RuntimeTest {};

// Under the default profile, ordinary programs run and the calls a
// container must not make (a new user namespace here) fail with EPERM.
TEST_F(Seccomp, DefaultProfileConfinesTheProcessAndExec) {
    Bundle bundle;
    bundle.config()["linux"]["seccomp"] = default_profile();
    bundle.config()["process"]["args"] = {"/probe", "sleep", "30"};
    bundle.write_config();
    std::string id = make_id("sc");
    ASSERT_EQ(runtime({"run", "--detach", "--bundle", bundle.path(), id}).exit_code, 0);
    auto report = runtime({"exec", id, "/probe"});
    ASSERT_EQ(report.exit_code, 0) << report;
    EXPECT_EQ(berth_test::parse_probe_output(report.out)["seccomp"], 2) << "filter mode";
    auto r = runtime({"exec", id, "sh", "-c", "unshare -U true; echo status=$?"});
    EXPECT_NE(r.out.find("status=1"), std::string::npos) << r;
    EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r;
}

TEST_F(Seccomp, BrokenProfileFailsCreateNamingTheField) {
    Bundle bundle;
    bundle.config()["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_BOGUS"}}}}};
    bundle.write_config();
    std::string id = make_id("scbad");
    auto r = runtime({"create", "--bundle", bundle.path(), id});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("linux.seccomp.syscalls[0].action"), std::string::npos) << r;
    EXPECT_EQ(listed_ids().count(id), 0u);
}

// An agent listening on a unix socket gets the notify fd with the state,
// and can answer for the container: here it makes mkdir "succeed" with 0.
TEST_F(Seccomp, NotifyHandsTheFdToTheAgent) {
    berth_test::TempDir agent_dir("agent");
    std::string socket_path = (agent_dir.path() / "agent.sock").string();
    int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socket_path.c_str());
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(listener, 1), 0);

    Bundle bundle;
    bundle.config()["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"listenerPath", socket_path},
        {"listenerMetadata", "berth-test"},
        {"syscalls", {{{"names", {"mkdirat", "mkdir"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
    bundle.config()["process"]["args"] = {"/probe", "sleep", "30"};
    bundle.write_config();
    std::string id = make_id("scnotify");
    ASSERT_EQ(runtime({"create", "--bundle", bundle.path(), id}).exit_code, 0);
    ASSERT_EQ(runtime({"start", id}).exit_code, 0);

    int connection = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(connection, 0);
    char payload[8192] = {};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    iovec io{payload, sizeof payload - 1};
    msghdr message{};
    message.msg_iov = &io;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(connection, &message, MSG_CMSG_CLOEXEC);
    ASSERT_GT(n, 0);
    cmsghdr* rights = CMSG_FIRSTHDR(&message);
    ASSERT_NE(rights, nullptr) << "no fd came with the state";
    int notify_fd;
    std::memcpy(&notify_fd, CMSG_DATA(rights), sizeof notify_fd);
    json state = json::parse(std::string(payload, static_cast<std::size_t>(n)));
    EXPECT_EQ(state["fds"], json({"seccompFd"}));
    EXPECT_EQ(state["metadata"], "berth-test");
    EXPECT_EQ(state["state"]["id"], id);
    ::close(notify_fd);
    ::close(connection);
    ::close(listener);
}

} // namespace
} // namespace berth_it
