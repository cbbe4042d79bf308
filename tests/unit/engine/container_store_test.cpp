// The containers table: names unique under concurrency, lookups as Docker's.
#include "berth/base/error.h"
#include "berth/engine/container_store.h"
#include "berth/engine/identity.h"
#include "berth_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace berth;
using namespace berth::engine;

namespace {

ContainerRecord record_named(const std::string& name) {
    ContainerRecord record;
    record.id = new_container_id();
    record.name = name;
    record.image_id = "sha256:" + std::string(64, 'b');
    record.image_name = "busybox";
    record.config_json = "{}";
    record.created = now_rfc3339_nano();
    return record;
}

} // namespace

TEST(Identity, IdsAndNames) {
    auto id = new_container_id();
    EXPECT_EQ(id.size(), 64u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(id, new_container_id());
    EXPECT_TRUE(is_valid_container_name(random_container_name()));
    EXPECT_TRUE(is_valid_container_name("/web-1.a_b"));
    EXPECT_FALSE(is_valid_container_name("-x"));
    EXPECT_FALSE(is_valid_container_name("a b"));
    EXPECT_FALSE(is_valid_container_name("x"));
}

TEST(ContainerStore, InsertFindUpdateRemove) {
    berth_test::TempDir dir;
    image::Database database((dir.path() / "berth.db").string());
    ContainerStore store(database);
    auto web = record_named("web");
    store.insert(web);
    EXPECT_EQ(store.get("web").id, web.id);
    EXPECT_EQ(store.get("/web").id, web.id);
    EXPECT_EQ(store.get(web.id).name, "web");
    EXPECT_EQ(store.get(web.id.substr(0, 6)).name, "web");
    EXPECT_FALSE(store.find("nothing"));
    EXPECT_THROW(store.get("nothing"), Error);

    web.state = ContainerState::running;
    web.pid = 42;
    web.monitor_pid = 41;
    web.started = now_rfc3339_nano();
    store.update_state(web);
    auto read = store.get("web");
    EXPECT_EQ(read.state, ContainerState::running);
    EXPECT_EQ(read.pid, 42);
    EXPECT_EQ(read.monitor_pid, 41);

    auto exited = read;
    exited.state = ContainerState::exited;
    exited.exit_code = 3;
    EXPECT_FALSE(store.update_state_if(exited, ContainerState::running, 999)) << "another monitor";
    EXPECT_TRUE(store.update_state_if(exited, ContainerState::running, 41));
    EXPECT_FALSE(store.update_state_if(exited, ContainerState::running, 41)) << "only once";
    EXPECT_EQ(store.get("web").exit_code, 3);

    store.remove(web.id);
    EXPECT_FALSE(store.find("web"));
}

TEST(ContainerStore, NameTakenIsAConflict) {
    berth_test::TempDir dir;
    image::Database database((dir.path() / "berth.db").string());
    ContainerStore store(database);
    store.insert(record_named("db"));
    EXPECT_THROW(store.insert(record_named("db")), NameConflict);
    EXPECT_EQ(store.list().size(), 1u);
}

TEST(ContainerStore, AmbiguousPrefixFails) {
    berth_test::TempDir dir;
    image::Database database((dir.path() / "berth.db").string());
    ContainerStore store(database);
    auto a = record_named("a1"), b = record_named("b1");
    a.id = "ab" + a.id.substr(2);
    b.id = "ab" + b.id.substr(2);
    store.insert(a);
    store.insert(b);
    EXPECT_THROW(store.get("ab"), Error);
    EXPECT_EQ(store.get(a.id.substr(0, 20)).name, "a1");
}

// Processes racing for the same names: each name is won exactly once and
// the database stays whole.
TEST(ContainerStore, ConcurrentProcessesNeverShareAName) {
    berth_test::TempDir dir;
    std::string path = (dir.path() / "berth.db").string();
    {
        image::Database database(path);
        ContainerStore store(database);
    }
    constexpr int processes = 4, names = 25;
    std::vector<pid_t> children;
    for (int p = 0; p < processes; ++p) {
        pid_t child = ::fork();
        if (child == 0) {
            int won = 0;
            try {
                image::Database database(path);
                ContainerStore store(database);
                for (int n = 0; n < names; ++n) {
                    try {
                        store.insert(record_named("n" + std::to_string(n)));
                        ++won;
                    } catch (const NameConflict&) {
                    }
                }
            } catch (...) {
                ::_exit(100);
            }
            ::_exit(won);
        }
        children.push_back(child);
    }
    int total = 0;
    for (pid_t child : children) {
        int status;
        ::waitpid(child, &status, 0);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_NE(WEXITSTATUS(status), 100);
        total += WEXITSTATUS(status);
    }
    EXPECT_EQ(total, names);
    image::Database database(path);
    ContainerStore store(database);
    EXPECT_EQ(store.list().size(), static_cast<std::size_t>(names));
}
