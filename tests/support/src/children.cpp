#include "berth_test/children.hpp"

#include "berth_test/text.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <sys/wait.h>
#include <unistd.h>

namespace berth_test {

std::vector<pid_t> children_named(const std::string& comm) {
    std::vector<pid_t> pids;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        pid_t pid = std::atoi(entry.path().filename().c_str());
        if (pid <= 0) continue;
        std::string stat = read_text(entry.path() / "stat");
        auto open = stat.find('('), close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        char state;
        int parent;
        if (std::sscanf(stat.c_str() + close + 2, "%c %d", &state, &parent) != 2) continue;
        if (parent == ::getpid() && state != 'Z' &&
            (comm.empty() || stat.substr(open + 1, close - open - 1) == comm))
            pids.push_back(pid);
    }
    return pids;
}

std::vector<pid_t> living_children() {
    return children_named("");
}

void reap_zombies() {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

} // namespace berth_test
