#include "berth/base/error.h"
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
