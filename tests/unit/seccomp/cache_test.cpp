// Filter::compile with a cache directory: a hit serves the program compiled
// before, and only a directory and file that no one else can write are used.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/runtime/seccomp.h"
#include "child_process.h"

#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

using berth::runtime::seccomp::Filter;
using berth::test::describe_status;
using nlohmann::json;

namespace {

class SeccompCache : public testing::Test {
  protected:
    void SetUp() override {
        char dir_template[] = "/tmp/berth-seccomp-cache-XXXXXX";
        root_ = ::mkdtemp(dir_template);
        cache_ = root_ + "/cache";
    }
    void TearDown() override { berth::remove_tree(root_); }

    std::vector<std::string> cache_files() const {
        std::vector<std::string> names;
        if (DIR* dir = ::opendir(cache_.c_str())) {
            while (dirent* entry = ::readdir(dir))
                if (entry->d_name[0] != '.') names.push_back(cache_ + "/" + entry->d_name);
            ::closedir(dir);
        }
        return names;
    }

    // Rewrites the cached program as one "allow everything" instruction,
    // leaving the key in front of it alone: a forgery only a hit would serve.
    void forge_cached_program() {
        std::vector<std::string> files = cache_files();
        ASSERT_EQ(files.size(), 1u);
        std::string data = berth::read_file(files[0]);
        std::uint32_t key_size;
        std::memcpy(&key_size, data.data(), sizeof key_size);
        std::size_t skipped_at = sizeof key_size + key_size;
        std::string forged = data.substr(0, skipped_at);
        std::uint32_t zero = 0, one = 1;
        forged.append(reinterpret_cast<const char*>(&zero), sizeof zero); // no skipped names
        forged.append(reinterpret_cast<const char*>(&one), sizeof one);
        sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        forged.append(reinterpret_cast<const char*>(&allow), sizeof allow);
        berth::write_file_atomic(files[0], forged, 0600);
    }

    std::string root_;
    std::string cache_;
};

const json profile = {{"defaultAction", "SCMP_ACT_ALLOW"},
                      {"syscalls",
                       {{{"names", {"mkdir", "no_such_call"}},
                         {"action", "SCMP_ACT_ERRNO"},
                         {"errnoRet", ENOTSUP}}}}};

TEST_F(SeccompCache, SecondCompileReadsTheSameProgramBack) {
    Filter first = Filter::compile(profile, cache_);
    std::vector<std::string> files = cache_files();
    ASSERT_EQ(files.size(), 1u);
    struct stat status;
    ASSERT_EQ(::stat(cache_.c_str(), &status), 0);
    EXPECT_EQ(status.st_mode & 07777, 0700u);
    ASSERT_EQ(::stat(files[0].c_str(), &status), 0);
    EXPECT_EQ(status.st_mode & 07777, 0600u);

    Filter second = Filter::compile(profile, cache_);
    EXPECT_EQ(second.instruction_count(), first.instruction_count());
    EXPECT_EQ(second.skipped_syscalls(), std::vector<std::string>{"no_such_call"});
    int exit_status = berth::test::run_in_child([&] {
        ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        second.load();
        return berth::test::expect_errno(::syscall(SYS_mkdir, "/tmp/berth-never", 0700), ENOTSUP,
                                         "mkdir");
    });
    EXPECT_EQ(describe_status(exit_status), "exited with 0");
}

TEST_F(SeccompCache, AnotherProfileIsAMiss) {
    Filter::compile(profile, cache_);
    json other = profile;
    other["syscalls"][0]["errnoRet"] = EPERM;
    Filter::compile(other, cache_);
    EXPECT_EQ(cache_files().size(), 2u);
}

TEST_F(SeccompCache, ServesWhatATrustedDirectoryHolds) {
    Filter::compile(profile, cache_);
    forge_cached_program();
    // Proof that the file is what a hit returns, so the next test means something.
    EXPECT_EQ(Filter::compile(profile, cache_).instruction_count(), 1u);
}

TEST_F(SeccompCache, IgnoresADirectoryOthersCanWrite) {
    Filter::compile(profile, cache_);
    forge_cached_program();
    ASSERT_EQ(::chmod(cache_.c_str(), 0777), 0);
    EXPECT_GT(Filter::compile(profile, cache_).instruction_count(), 1u);
}

TEST_F(SeccompCache, IgnoresAFileOthersCanWrite) {
    Filter::compile(profile, cache_);
    forge_cached_program();
    ASSERT_EQ(::chmod(cache_files()[0].c_str(), 0666), 0);
    EXPECT_GT(Filter::compile(profile, cache_).instruction_count(), 1u);
}

TEST_F(SeccompCache, ProfileErrorsAreFoundOnAHitToo) {
    json bad = profile;
    bad["syscalls"][0]["action"] = "SCMP_ACT_BOGUS";
    EXPECT_THROW(Filter::compile(bad, cache_), berth::Error);
    EXPECT_TRUE(cache_files().empty());
}

TEST_F(SeccompCache, AnUnwritableCacheIsOnlySlower) {
    EXPECT_NO_THROW(Filter::compile(profile, "/proc/no-cache-here"));
}

} // namespace
