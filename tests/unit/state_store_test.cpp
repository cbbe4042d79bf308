#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth_test/temp_dir.hpp"
#include "state_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

using namespace berth::runtime;

TEST(StateStore, IdsFollowRuncsRule) {
    EXPECT_NO_THROW(validate_container_id("abc-DEF_1.2+3"));
    for (const char* bad : {"", ".", "..", "a/b", "a b", "x\n"})
        EXPECT_THROW(validate_container_id(bad), berth::Error) << bad;
}

TEST(StateStore, CreateIsExclusiveAndRecordsRoundTrip) {
    berth_test::TempDir root("state");
    StateStore store(root.path().string());
    {
        ContainerDir dir = store.create("one");
        ContainerRecord record;
        record.state.id = "one";
        record.state.status = berth::oci::Status::running;
        record.state.pid = ::getpid();
        record.pid_start_time = process_start_time(::getpid());
        record.state.annotations.emplace("a", "b");
        dir.write_record(record);
        EXPECT_EQ(dir.current_status(dir.read_record()), berth::oci::Status::running);
    }
    EXPECT_THROW(store.create("one"), berth::Error);
    ContainerDir dir = store.open("one");
    ContainerRecord record = dir.read_record();
    EXPECT_EQ(record.state.annotations.at("a"), "b");
    // A recycled pid is not our init: the start time tells them apart.
    record.pid_start_time += 1;
    EXPECT_EQ(dir.current_status(record), berth::oci::Status::stopped);
    EXPECT_EQ(store.ids(), std::vector<std::string>{"one"});
    dir.remove();
    EXPECT_THROW(store.open("one"), berth::Error);
}

TEST(StateStore, ACreateKilledBeforeItsFirstWriteReadsAsStopped) {
    berth_test::TempDir root("state");
    StateStore store(root.path().string());
    { ContainerDir dir = store.create("half"); }
    ContainerDir dir = store.open("half");
    EXPECT_EQ(dir.current_status(dir.read_record()), berth::oci::Status::stopped);
}

// The config is a file of its own beside the record; a record written by an
// older berth (the config inside it, no hook flags) still reads, its hooks
// taken as possible so that start and delete look at the config.
TEST(StateStore, TheConfigLivesBesideTheRecordAndOldRecordsStillRead) {
    berth_test::TempDir root("state");
    StateStore store(root.path().string());
    ContainerDir dir = store.create("new");
    ContainerRecord record;
    record.state.id = "new";
    record.poststop_hooks = true;
    dir.write_config("{\"ociVersion\":\"1.0.2\"}");
    dir.write_record(record);
    ContainerRecord read = dir.read_record();
    EXPECT_FALSE(read.poststart_hooks);
    EXPECT_TRUE(read.poststop_hooks);
    EXPECT_EQ(dir.read_config(), "{\"ociVersion\":\"1.0.2\"}");
    EXPECT_EQ(berth::read_file(dir.file("state.json")).find("ociVersion\\\""), std::string::npos)
        << "the config is not copied into every record write";

    ContainerDir old = store.create("old");
    berth::write_file_atomic(
        old.file("state.json"),
        "{\"id\":\"old\",\"status\":\"stopped\",\"config\":\"{\\\"a\\\":1}\"}");
    ContainerRecord legacy = old.read_record();
    EXPECT_TRUE(legacy.poststart_hooks);
    EXPECT_TRUE(legacy.poststop_hooks);
    EXPECT_EQ(old.read_config(), "{\"a\":1}");
}
