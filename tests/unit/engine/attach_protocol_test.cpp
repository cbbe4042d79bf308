// The frames between a monitor and an attached command (attach_protocol.h).
#include "../../../src/engine/attach_protocol.h"

#include "berth/base/syscalls.h"
#include "berth/base/unique_fd.h"

#include <gtest/gtest.h>

using namespace berth;
using namespace berth::engine;

// A monitor's exit command sends the exit code and exits without reading
// the stdin_closed frame an attached `run` sent last. The kernel then
// reports a reset before the frame that was sent first: the exit code must
// still arrive (it once read as "the monitor exited without a report").
TEST(AttachProtocol, ExitCodeArrivesThoughThePeerLeftFramesUnread) {
    UniqueFd command, monitor;
    seqpacket_pair(command, monitor);
    ASSERT_TRUE(send_frame(command.get(), FrameType::stdin_closed, ""));
    ASSERT_TRUE(send_frame(monitor.get(), FrameType::exited, "7"));
    monitor.reset(); // with the stdin_closed frame unread

    Frame frame = receive_frame(command.get());
    ASSERT_FALSE(frame.closed);
    EXPECT_EQ(frame.type, FrameType::exited);
    EXPECT_EQ(frame.payload, "7");
    EXPECT_TRUE(receive_frame(command.get()).closed);
}

TEST(AttachProtocol, FramesKeepTheirTypeAndBoundaries) {
    UniqueFd a, b;
    seqpacket_pair(a, b);
    ASSERT_TRUE(send_frame(a.get(), FrameType::stdout_data, "one"));
    ASSERT_TRUE(send_frame(a.get(), FrameType::stderr_data, ""));
    Frame first = receive_frame(b.get());
    EXPECT_EQ(first.type, FrameType::stdout_data);
    EXPECT_EQ(first.payload, "one");
    Frame second = receive_frame(b.get());
    EXPECT_EQ(second.type, FrameType::stderr_data);
    EXPECT_EQ(second.payload, "");
    a.reset();
    EXPECT_TRUE(receive_frame(b.get()).closed);
}
