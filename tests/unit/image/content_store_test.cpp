#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/image/content_store.h"
#include "berth/image/snapshots.h"
#include "berth_test/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <filesystem>
#include <thread>

using namespace berth::image;

namespace {

std::size_t entries_in(const std::filesystem::path& dir) {
    std::size_t count = 0;
    for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator(dir))
        ++count;
    return count;
}

} // namespace

TEST(ContentStore, StoresUnderTheSha256) {
    berth_test::TempDir root;
    ContentStore store(root.path());
    auto digest = store.put("hello");
    EXPECT_EQ(digest.hex(), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    EXPECT_EQ(berth::read_file(store.path(digest)), "hello");
    EXPECT_EQ(store.read(digest), "hello");
    EXPECT_EQ(store.size(digest), 5u);
    EXPECT_EQ(store.list().size(), 1u);
}

TEST(ContentStore, RefusesContentThatDoesNotMatchItsDigest) {
    berth_test::TempDir root;
    ContentStore store(root.path());
    auto claimed = berth::oci::sha256_of("what the manifest says");
    MemorySource source("something else");
    EXPECT_THROW(store.ingest(source, claimed), berth::Error);
    EXPECT_FALSE(store.has(claimed));
    // Nothing at all is left behind, not even a temporary file.
    EXPECT_EQ(entries_in(root.path() / "blobs/sha256"), 0u);
}

TEST(ContentStore, RefusesWrongSize) {
    berth_test::TempDir root;
    ContentStore store(root.path());
    MemorySource source("12345");
    EXPECT_THROW(store.ingest(source, berth::oci::sha256_of("12345"), 4), berth::Error);
    EXPECT_EQ(entries_in(root.path() / "blobs/sha256"), 0u);
}

TEST(ContentStore, NoticesACorruptedBlob) {
    berth_test::TempDir root;
    ContentStore store(root.path());
    auto digest = store.put("original");
    berth::write_file_atomic(store.path(digest), "tampered");
    EXPECT_THROW(store.read(digest), berth::Error);
}

TEST(Snapshots, ConcurrentUnpacksOfOneLayerLeaveOneGoodSnapshot) {
    berth_test::TempDir root;
    SnapshotStore snapshots(root.path());
    auto chain = berth::oci::sha256_of("chain");
    std::atomic<int> unpacks{0};
    auto unpack = [&](int dir_fd) {
        ++unpacks;
        berth::UniqueFd file(::openat(dir_fd, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        berth::write_all(file.get(), "content", "f");
        std::this_thread::sleep_for(std::chrono::milliseconds(50)); // let them overlap
        return ApplyStats{1, 7};
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] { snapshots.ensure(chain, chain, unpack); });
    for (auto& thread : threads)
        thread.join();
    EXPECT_GE(unpacks.load(), 1);
    EXPECT_EQ(berth::read_file(snapshots.files_path(chain) + "/f"), "content");
    // Only the snapshot itself: the losers' copies are gone.
    EXPECT_EQ(entries_in(root.path() / "snapshots"), 1u);
    EXPECT_EQ(snapshots.info(chain)->size, 7u);
}

TEST(Snapshots, AFailedUnpackLeavesNothingVisible) {
    berth_test::TempDir root;
    SnapshotStore snapshots(root.path());
    auto chain = berth::oci::sha256_of("chain");
    EXPECT_THROW(
        snapshots.ensure(chain, chain, [](int) -> ApplyStats { berth::fail("bad layer"); }),
        berth::Error);
    EXPECT_FALSE(snapshots.has(chain));
    EXPECT_EQ(entries_in(root.path() / "snapshots"), 0u);
}
