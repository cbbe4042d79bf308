#include "berth/base/error.h"
#include "berth/image/decompress.h"
#include "test_archives.h"

#include <gtest/gtest.h>

using namespace berth::image;

namespace {

std::string decompress_all(const std::string& data, berth::oci::Compression compression) {
    MemorySource source(data);
    auto stream = decompressing(source, compression);
    return read_to_string(*stream, 1 << 30, "test");
}

std::string sample() {
    std::string text;
    for (int i = 0; i < 200000; ++i)
        text += std::to_string(i * 7919 % 1000) + ",";
    return text;
}

} // namespace

TEST(Decompress, DetectsByMagic) {
    EXPECT_EQ(detect_compression(berth_test::gzip("x")), berth::oci::Compression::gzip);
    EXPECT_EQ(detect_compression(berth_test::zstd("x")), berth::oci::Compression::zstd);
    EXPECT_EQ(detect_compression("ustar"), berth::oci::Compression::none);
    EXPECT_THROW(detect_compression(std::string("\xfd"
                                                "7zXZ\0",
                                                6)),
                 berth::Error);
}

TEST(Decompress, GzipRoundTripsIncludingConcatenatedMembers) {
    std::string text = sample();
    EXPECT_EQ(decompress_all(berth_test::gzip(text), berth::oci::Compression::gzip), text);
    std::string two = berth_test::gzip("first,") + berth_test::gzip("second");
    EXPECT_EQ(decompress_all(two, berth::oci::Compression::gzip), "first,second");
}

TEST(Decompress, ZstdRoundTrips) {
    std::string text = sample();
    EXPECT_EQ(decompress_all(berth_test::zstd(text), berth::oci::Compression::zstd), text);
}

TEST(Decompress, TruncatedStreamsAreErrors) {
    std::string text = sample();
    std::string gz = berth_test::gzip(text);
    EXPECT_THROW(decompress_all(gz.substr(0, gz.size() / 2), berth::oci::Compression::gzip),
                 berth::Error);
    std::string zs = berth_test::zstd(text);
    EXPECT_THROW(decompress_all(zs.substr(0, zs.size() / 2), berth::oci::Compression::zstd),
                 berth::Error);
}

TEST(Decompress, CorruptGzipChecksumIsAnError) {
    std::string gz = berth_test::gzip("some data to protect");
    gz[gz.size() - 6] ^= 0x55; // inside the CRC32 trailer
    EXPECT_THROW(decompress_all(gz, berth::oci::Compression::gzip), berth::Error);
}

TEST(Decompress, GarbageAfterGzipIsAnError) {
    std::string gz = berth_test::gzip("data") + "trailing";
    EXPECT_THROW(decompress_all(gz, berth::oci::Compression::gzip), berth::Error);
}
