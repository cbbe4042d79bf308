// The read-ahead thread must hand on every byte in order, whatever the
// sizes asked for, report its source's error after the bytes read before
// it, and stop cleanly when its reader gives up half way.
#include "berth/base/error.h"
#include "berth/image/read_ahead.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>

using namespace berth::image;

namespace {

std::string pattern(std::size_t size) {
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; ++i)
        data[i] = static_cast<char>(i * 131 % 251);
    return data;
}

// Gives out a few bytes at a time, then fails if told to.
class TrickleSource : public ByteSource {
  public:
    TrickleSource(std::string data, bool fail_at_end)
        : data_(std::move(data)), fail_(fail_at_end) {}
    std::size_t read(void* buffer, std::size_t size) override {
        ++reads;
        std::size_t n = std::min({size, data_.size() - offset_, std::size_t{777}});
        if (n == 0 && fail_) berth::fail("the source broke");
        std::memcpy(buffer, data_.data() + offset_, n);
        offset_ += n;
        return n;
    }
    std::atomic<int> reads{0};

  private:
    std::string data_;
    std::size_t offset_ = 0;
    bool fail_;
};

} // namespace

TEST(ReadAhead, HandsOnEveryByteInOrder) {
    std::string data = pattern(3'000'001);
    for (std::size_t chunk : {4096u, 65536u, 1u << 20}) {
        MemorySource source(data);
        ReadAheadSource ahead(source, chunk, 3);
        std::string out;
        char buffer[5000];
        std::size_t ask = 1;
        while (std::size_t n = ahead.read(buffer, ask)) {
            out.append(buffer, n);
            ask = ask * 7 % sizeof buffer + 1; // odd sizes, across chunk edges
        }
        EXPECT_EQ(out, data) << "chunk " << chunk;
        EXPECT_EQ(ahead.read(buffer, sizeof buffer), 0u); // and stays ended
    }
}

TEST(ReadAhead, EmptyStream) {
    MemorySource source("");
    ReadAheadSource ahead(source);
    char byte;
    EXPECT_EQ(ahead.read(&byte, 1), 0u);
}

TEST(ReadAhead, ErrorComesAfterTheBytesBeforeIt) {
    std::string data = pattern(100'000);
    TrickleSource source(data, true);
    ReadAheadSource ahead(source, 4096, 2);
    std::string out;
    char buffer[1000];
    try {
        while (std::size_t n = ahead.read(buffer, sizeof buffer))
            out.append(buffer, n);
        FAIL() << "the error was lost";
    } catch (const berth::Error& error) {
        EXPECT_STREQ(error.what(), "the source broke");
    }
    EXPECT_EQ(out, data);
}

TEST(ReadAhead, ReaderThatGivesUpEarlyStopsTheThread) {
    TrickleSource source(pattern(10'000'000), false);
    {
        ReadAheadSource ahead(source, 4096, 2);
        char buffer[100];
        ASSERT_EQ(ahead.read(buffer, sizeof buffer), 100u);
    } // joins; must not hang or read on
    int reads = source.reads;
    EXPECT_LT(reads, 100); // two chunks ahead at most, not the whole stream
}
