// SCMP_ACT_NOTIFY end to end: a child loads a filter, hands the listener to
// an agent (this test) with send_notify_fd, and the agent answers its calls.
#include "berth/base/error.h"
#include "berth/runtime/seccomp.h"
#include "child_process.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <seccomp.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

using berth::runtime::seccomp::Filter;
using berth::runtime::seccomp::send_notify_fd;
using berth::test::ChildGuard;
using berth::test::describe_status;
using berth::test::start_child;
using nlohmann::json;

namespace {

constexpr long answer = 4242;

class Agent {
  public:
    // Listens at a path at least `path_length` long (in nested directories).
    explicit Agent(std::size_t path_length = 0) {
        char dir_template[] = "/tmp/berth-seccomp-agent-XXXXXX";
        std::string dir = ::mkdtemp(dir_template);
        dirs_.push_back(dir);
        while (dir.size() + 11 < path_length) {
            dir += "/" + std::string(50, 'd');
            if (::mkdir(dir.c_str(), 0700) < 0) std::abort();
            dirs_.push_back(dir);
        }
        path_ = dir + "/agent.sock";
        listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        // bind() from inside the directory: a long path fits no sockaddr_un.
        char* back = ::get_current_dir_name();
        if (::chdir(dir.c_str()) < 0) std::abort();
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strcpy(address.sun_path, "agent.sock");
        bool bound = ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
        if (::chdir(back) < 0 || !bound || ::listen(listener_, 1) < 0) std::abort();
        std::free(back);
    }
    ~Agent() {
        ::close(listener_);
        ::unlink(path_.c_str());
        for (auto dir = dirs_.rbegin(); dir != dirs_.rend(); ++dir)
            ::rmdir(dir->c_str());
    }
    const std::string& path() const { return path_; }

    // Accepts one connection: the process state JSON and the fd it carried.
    int receive(json& state, int timeout_ms = 10000) {
        pollfd ready{listener_, POLLIN, 0};
        if (::poll(&ready, 1, timeout_ms) != 1) return -1;
        int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        std::string text;
        int fd = -1;
        for (;;) {
            char buffer[4096];
            alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
            iovec data{buffer, sizeof buffer};
            msghdr header{};
            header.msg_iov = &data;
            header.msg_iovlen = 1;
            header.msg_control = control;
            header.msg_controllen = sizeof control;
            ssize_t n = ::recvmsg(connection, &header, MSG_CMSG_CLOEXEC);
            if (n <= 0) break;
            for (cmsghdr* c = CMSG_FIRSTHDR(&header); c; c = CMSG_NXTHDR(&header, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                    std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
            text.append(buffer, static_cast<std::size_t>(n));
        }
        ::close(connection);
        state = json::parse(text, nullptr, false);
        return fd;
    }

  private:
    std::vector<std::string> dirs_; // outermost first
    std::string path_;
    int listener_ = -1;
};

Filter notify_on_getppid(const std::string& listener_path) {
    return Filter::compile(
        {{"defaultAction", "SCMP_ACT_ALLOW"},
         {"listenerPath", listener_path},
         {"listenerMetadata", "answer=4242"},
         {"syscalls", {{{"names", {"getppid"}}, {"action", "SCMP_ACT_NOTIFY"}}}}});
}

void notify_round_trip(std::size_t listener_path_length) {
    Agent agent(listener_path_length);
    Filter filter = notify_on_getppid(agent.path());
    ASSERT_TRUE(filter.wants_notify());
    ChildGuard child(start_child([&] {
        ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        int notify_fd = filter.load();
        if (notify_fd < 0) return 10;
        json state = {{"ociVersion", "1.2.0"},
                      {"id", "notify-test"},
                      {"status", "creating"},
                      {"pid", ::getpid()},
                      {"bundle", "/bundle"}};
        send_notify_fd(filter.listener_path(), notify_fd, state.dump(), filter.listener_metadata());
        ::close(notify_fd);
        // Waits here until the agent answers.
        return ::syscall(SYS_getppid) == answer ? 0 : 11;
    }));

    json message;
    int notify_fd = agent.receive(message);
    ASSERT_GE(notify_fd, 0) << "no fd from the child";
    EXPECT_EQ(message["ociVersion"], "1.2.0");
    EXPECT_EQ(message["fds"], json({"seccompFd"}));
    EXPECT_EQ(message["metadata"], "answer=4242");
    EXPECT_EQ(message["state"]["id"], "notify-test");
    EXPECT_EQ(message["pid"], message["state"]["pid"]);

    seccomp_notif* request = nullptr;
    seccomp_notif_resp* response = nullptr;
    ASSERT_EQ(seccomp_notify_alloc(&request, &response), 0);
    pollfd ready{notify_fd, POLLIN, 0};
    ASSERT_EQ(::poll(&ready, 1, 10000), 1) << "no notification from the child";
    ASSERT_EQ(seccomp_notify_receive(notify_fd, request), 0);
    EXPECT_EQ(request->data.nr, SYS_getppid);
    EXPECT_EQ(static_cast<json::number_integer_t>(request->pid),
              message["pid"].get<json::number_integer_t>());
    response->id = request->id;
    response->val = answer;
    response->error = 0;
    response->flags = 0;
    EXPECT_EQ(seccomp_notify_respond(notify_fd, response), 0);
    seccomp_notify_free(request, response);
    ::close(notify_fd);
    EXPECT_EQ(describe_status(child.wait()), "exited with 0");
}

TEST(SeccompNotify, AgentReceivesTheFdAndAnswersTheCall) {
    notify_round_trip(0);
}

TEST(SeccompNotify, ListenerPathLongerThanSunPath) {
    notify_round_trip(200);
}

TEST(SeccompNotify, UnreachableAgentIsAnErrorNamingIt) {
    try {
        send_notify_fd("/nonexistent/agent.sock", 0, R"({"pid": 1})", "");
        FAIL() << "sent to nobody";
    } catch (const berth::Error& error) {
        EXPECT_STREQ(error.what(), "connecting to the seccomp agent at /nonexistent/agent.sock: "
                                   "No such file or directory");
    }
}

TEST(SeccompNotify, StateWithoutPidIsRefused) {
    Agent agent;
    EXPECT_THROW(send_notify_fd(agent.path(), 0, R"({"id": "x"})", ""), berth::Error);
    EXPECT_THROW(send_notify_fd(agent.path(), 0, "not json", ""), berth::Error);
}

} // namespace
