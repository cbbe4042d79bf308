#include "real_cgroups.h"

#include "path.h"

#include <csignal>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace cgroups_test {

namespace fs = std::filesystem;

std::string test_parent_name() {
    return "berth-test-" + std::to_string(::getpid());
}

std::vector<std::string> existing_test_parents() {
    std::ifstream self_file("/proc/self/cgroup");
    std::stringstream self;
    self << self_file.rdbuf();
    std::vector<std::string> found;
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator("/sys/fs/cgroup", ignored)) {
        if (entry.is_symlink() || !entry.is_directory()) continue;
        std::string mount = entry.path().string();
        std::string hierarchy = entry.path().filename().string();
        std::string own = berth::runtime::cgroups::own_cgroup(self.str(), hierarchy);
        for (const std::string& base : {mount, berth::runtime::cgroups::join_below(mount, own)}) {
            std::string candidate = base + "/" + test_parent_name();
            bool listed = false;
            for (const auto& f : found)
                listed = listed || f == candidate;
            if (!listed && fs::is_directory(candidate)) found.push_back(candidate);
        }
    }
    return found;
}

namespace {

void remove_cgroup_tree(const fs::path& directory) {
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator(directory, ignored))
        if (entry.is_directory() && !entry.is_symlink()) remove_cgroup_tree(entry.path());
    // cgroupfs directories go with rmdir alone, their control files with them.
    for (int attempt = 0; attempt < 50 && ::rmdir(directory.c_str()) < 0 && errno == EBUSY;
         ++attempt)
        ::usleep(20000);
}

} // namespace

void remove_test_parents() {
    for (const auto& parent : existing_test_parents())
        remove_cgroup_tree(parent);
}

SleepingChild::SleepingChild() {
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        for (;;)
            ::pause();
    }
}

SleepingChild::~SleepingChild() {
    if (reaped_) return;
    ::kill(pid_, SIGKILL);
    wait();
}

int SleepingChild::wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    return status;
}

} // namespace cgroups_test
