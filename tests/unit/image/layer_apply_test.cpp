// Layer apply, with honest layers and hostile ones: each hostile archive is
// made by hand and must fail (or be confined) without touching anything
// outside the snapshot directory.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/image/layer_apply.h"
#include "berth/image/layer_unpack.h"
#include "berth_test/temp_dir.hpp"
#include "test_archives.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <tuple>
#include <unistd.h>

using namespace berth::image;
using berth_test::Layer;

namespace {

class LayerApply : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (ownership, devices, trusted xattrs)";
        snapshot = (temp.path() / "snapshot").string();
        outside = (temp.path() / "outside").string();
        berth::make_directories(snapshot);
        berth::make_directories(outside);
        root_fd = berth::open_fd(snapshot, O_RDONLY | O_DIRECTORY);
    }

    ApplyStats apply(const std::string& archive, ApplyOptions options = {}) {
        MemorySource source(archive);
        TarReader reader(source);
        return apply_layer(reader, root_fd.get(), options);
    }

    bool outside_is_empty() {
        return std::filesystem::is_empty(outside) && !berth::path_exists(temp.path() / "evil");
    }

    std::string at(const std::string& path) { return snapshot + "/" + path; }

    berth_test::TempDir temp{"berth-layer"};
    std::string snapshot, outside;
    berth::UniqueFd root_fd;
};

struct stat lstat_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st;
}

} // namespace

TEST_F(LayerApply, CreatesEveryKindOfEntryWithItsMetadata) {
    TarEntry fifo;
    fifo.type = TarEntryType::fifo;
    fifo.path = "dir/fifo";
    fifo.mode = 0640;
    TarEntry device;
    device.type = TarEntryType::char_device;
    device.path = "dev/null";
    device.mode = 0666;
    device.device_major = 1;
    device.device_minor = 3;
    TarEntry with_xattr;
    with_xattr.path = "dir/tagged";
    with_xattr.mode = 0600;
    with_xattr.size = 1;
    with_xattr.xattrs["user.color"] = "blue";
    with_xattr.xattrs["trusted.overlay.redirect"] = "/etc"; // must be dropped
    std::string archive = Layer()
                              .directory("dir", 0750, 1234567)
                              .file("dir/file", "contents", 04755, 1234, 5678)
                              .symlink("dir/link", "/etc/passwd")
                              .hard_link("dir/hard", "dir/file")
                              .entry(fifo)
                              .entry(device)
                              .entry(with_xattr, "x")
                              .bytes();
    ApplyStats stats = apply(archive);
    EXPECT_EQ(stats.entries, 7u);

    EXPECT_EQ(berth::read_file(at("dir/file")), "contents");
    struct stat file = lstat_of(at("dir/file"));
    EXPECT_EQ(file.st_mode & 07777, 04755u); // setuid survives the chown
    EXPECT_EQ(file.st_uid, 1234u);
    EXPECT_EQ(file.st_gid, 5678u);
    EXPECT_EQ(file.st_mtime, 1000000000);
    EXPECT_EQ(file.st_nlink, 2u);
    EXPECT_EQ(lstat_of(at("dir/hard")).st_ino, file.st_ino);

    struct stat dir = lstat_of(at("dir"));
    EXPECT_EQ(dir.st_mode & 07777, 0750u);
    EXPECT_EQ(dir.st_mtime, 1234567); // set after its children were written

    char target[64] = {};
    ASSERT_GT(::readlink(at("dir/link").c_str(), target, sizeof target), 0);
    EXPECT_STREQ(target, "/etc/passwd");
    EXPECT_TRUE(S_ISFIFO(lstat_of(at("dir/fifo")).st_mode));
    struct stat null_device = lstat_of(at("dev/null"));
    EXPECT_TRUE(S_ISCHR(null_device.st_mode));
    EXPECT_EQ(null_device.st_rdev, makedev(1, 3));

    char value[16] = {};
    EXPECT_EQ(::getxattr(at("dir/tagged").c_str(), "user.color", value, sizeof value), 4);
    EXPECT_STREQ(value, "blue");
    EXPECT_LT(::getxattr(at("dir/tagged").c_str(), "trusted.overlay.redirect", value, sizeof value),
              0);
}

TEST_F(LayerApply, WhiteoutsBecomeOverlayWhiteouts) {
    apply(Layer()
              .file("keep/a", "a")
              .file("gone", "old")
              .file(".wh.gone", "")
              .file("shadowed/.wh..wh..opq", "")
              .file(".wh.from-lower", "")
              .bytes());
    for (const char* name : {"gone", "from-lower"}) {
        struct stat whiteout = lstat_of(at(name));
        EXPECT_TRUE(S_ISCHR(whiteout.st_mode)) << name;
        EXPECT_EQ(whiteout.st_rdev, makedev(0, 0)) << name;
    }
    char value[4] = {};
    EXPECT_EQ(::getxattr(at("shadowed").c_str(), "trusted.overlay.opaque", value, sizeof value), 1);
    EXPECT_EQ(value[0], 'y');
    EXPECT_FALSE(berth::path_exists(at(".wh.gone")));
    EXPECT_FALSE(berth::path_exists(at("shadowed/.wh..wh..opq")));
}

TEST_F(LayerApply, DotDotThatLeavesTheLayerIsRefused) {
    EXPECT_THROW(apply(Layer().file("../evil", "x").bytes()), berth::Error);
    EXPECT_THROW(apply(Layer().file("a/../../evil", "x").bytes()), berth::Error);
    EXPECT_TRUE(outside_is_empty());
    // A ".." that stays inside is only a roundabout name.
    apply(Layer().file("a/../inside", "x").bytes());
    EXPECT_TRUE(berth::path_exists(at("inside")));
}

TEST_F(LayerApply, AbsoluteNamesLandInsideTheLayer) {
    apply(Layer().file("/etc/hostname-from-layer", "x").bytes());
    EXPECT_EQ(berth::read_file(at("etc/hostname-from-layer")), "x");
    EXPECT_FALSE(berth::path_exists("/etc/hostname-from-layer"));
}

TEST_F(LayerApply, FileThroughASymlinkIsRefused) {
    std::string archive = Layer().symlink("escape", outside).file("escape/pwned", "x").bytes();
    EXPECT_THROW(apply(archive), berth::Error);
    EXPECT_TRUE(outside_is_empty());
    // Relative symlinks climbing out, and directories through them, too.
    std::string relative = Layer().symlink("up", "../../..").directory("up/evil").bytes();
    EXPECT_THROW(apply(relative), berth::Error);
    EXPECT_TRUE(outside_is_empty());
}

TEST_F(LayerApply, HardLinkToAPathOutsideIsRefused) {
    std::string host_file = outside + "/secret";
    berth::write_file_atomic(host_file, "secret");
    struct stat before = lstat_of(host_file);
    EXPECT_THROW(apply(Layer().hard_link("steal", "../outside/secret").bytes()), berth::Error);
    EXPECT_THROW(apply(Layer().hard_link("steal", host_file).bytes()), berth::Error);
    EXPECT_FALSE(berth::path_exists(at("steal")));
    EXPECT_EQ(lstat_of(host_file).st_nlink, before.st_nlink);
}

TEST_F(LayerApply, HardLinkThroughASymlinkIsRefused) {
    std::string host_file = outside + "/secret";
    berth::write_file_atomic(host_file, "secret");
    std::string archive =
        Layer().symlink("door", outside).hard_link("steal", "door/secret").bytes();
    EXPECT_THROW(apply(archive), berth::Error);
    EXPECT_EQ(lstat_of(host_file).st_nlink, 1u);
}

TEST_F(LayerApply, HardLinkToASymlinkLinksTheSymlinkItself) {
    std::string host_file = outside + "/secret";
    berth::write_file_atomic(host_file, "secret");
    apply(Layer().symlink("s", host_file).hard_link("h", "s").bytes());
    EXPECT_TRUE(S_ISLNK(lstat_of(at("h")).st_mode));
    EXPECT_EQ(lstat_of(at("h")).st_ino, lstat_of(at("s")).st_ino);
    EXPECT_EQ(lstat_of(host_file).st_nlink, 1u); // the host file got no new link
}

TEST_F(LayerApply, WhiteoutOfDotDotIsRefused) {
    berth::write_file_atomic(outside + "/victim", "x");
    EXPECT_THROW(apply(Layer().file("sub/.wh...", "").bytes()), berth::Error);
    EXPECT_THROW(apply(Layer().file(".wh..", "").bytes()), berth::Error);
    EXPECT_TRUE(berth::path_exists(outside + "/victim"));
    EXPECT_TRUE(berth::path_exists(snapshot));
}

TEST_F(LayerApply, NamesTooLongOrWithNulAreRefused) {
    std::string pax = berth_test::pax_record("path", std::string("a\0b", 3));
    std::string with_nul = berth_test::raw_header("x", 'x', pax.size()) + berth_test::padded(pax) +
                           berth_test::raw_header("f", '0', 0) + berth_test::end_of_archive();
    EXPECT_THROW(apply(with_nul), berth::Error);
    std::string component(300, 'c'); // over NAME_MAX
    EXPECT_THROW(apply(Layer().file(component, "x").bytes()), berth::Error);
}

TEST_F(LayerApply, TruncatedArchiveFails) {
    std::string archive = Layer().file("big", std::string(100000, 'b')).bytes();
    EXPECT_THROW(apply(archive.substr(0, 50000)), berth::Error);
}

TEST_F(LayerApply, GzipBombStopsAtTheLimit) {
    // 64 MiB of zeros compress to about 64 KiB.
    TarEntry bomb;
    bomb.path = "zeros";
    bomb.mode = 0644;
    bomb.size = 64u << 20;
    std::string tar = Layer().entry(bomb, std::string(bomb.size, '\0')).bytes();
    std::string compressed = berth_test::gzip(tar);
    ASSERT_LT(compressed.size(), 1u << 20);
    std::string blob_path = temp.path() / "bomb.gz";
    berth::write_file_atomic(blob_path, compressed);
    berth::UniqueFd blob = berth::open_fd(blob_path, O_RDONLY);
    berth::oci::Descriptor descriptor{berth::oci::media_type::oci_layer_gzip,
                                      berth::oci::sha256_of(compressed),
                                      static_cast<std::int64_t>(compressed.size()),
                                      {},
                                      {}};
    ApplyOptions options;
    options.max_bytes = 8u << 20;
    try {
        unpack_layer(blob.get(), descriptor, berth::oci::sha256_of(tar), root_fd.get(), options);
        FAIL() << "the bomb was unpacked";
    } catch (const berth::Error& error) {
        EXPECT_NE(std::string(error.what()).find("limit"), std::string::npos) << error.what();
    }
}

TEST_F(LayerApply, UnpackVerifiesBothDigests) {
    std::string tar = Layer().file("f", "data").bytes();
    std::string compressed = berth_test::zstd(tar);
    std::string blob_path = temp.path() / "layer.zst";
    berth::write_file_atomic(blob_path, compressed);
    berth::UniqueFd blob = berth::open_fd(blob_path, O_RDONLY);
    berth::oci::Descriptor descriptor{berth::oci::media_type::oci_layer_zstd,
                                      berth::oci::sha256_of(compressed),
                                      static_cast<std::int64_t>(compressed.size()),
                                      {},
                                      {}};
    auto result =
        unpack_layer(blob.get(), descriptor, berth::oci::sha256_of(tar), root_fd.get(), {});
    EXPECT_EQ(result.uncompressed_bytes, tar.size());
    EXPECT_EQ(berth::read_file(at("f")), "data");

    berth::make_directories(temp.path() / "second");
    berth::UniqueFd second = berth::open_fd(temp.path() / "second", O_RDONLY | O_DIRECTORY);
    EXPECT_THROW(
        unpack_layer(blob.get(), descriptor, berth::oci::sha256_of("other"), second.get(), {}),
        berth::Error);
    descriptor.digest = berth::oci::sha256_of("not the blob");
    EXPECT_THROW(unpack_layer(blob.get(), descriptor, berth::oci::sha256_of(tar), second.get(), {}),
                 berth::Error);
}

TEST_F(LayerApply, LaterEntriesReplaceEarlierOnes) {
    apply(Layer()
              .file("x", "file first")
              .directory("x")
              .file("x/inside", "1")
              .file("x", "file again")
              .bytes());
    EXPECT_EQ(berth::read_file(at("x")), "file again");
}

TEST_F(LayerApply, ReadOnlyDirectoriesStillGetTheirChildren) {
    apply(Layer().directory("ro", 0555).file("ro/child", "c").bytes());
    EXPECT_EQ(berth::read_file(at("ro/child")), "c");
    EXPECT_EQ(lstat_of(at("ro")).st_mode & 07777, 0555u);
}

TEST_F(LayerApply, DirectoriesAreFinishedAfterTheirChildrenInAnyOrder) {
    // "a" is left for "b", which finishes it, and then entered again: it
    // must take its new children and still end with its own mode and times.
    apply(Layer()
              .directory("a", 0555, 1111)
              .file("a/one", "1")
              .directory("b", 0700, 2222)
              .file("b/x", "x")
              .file("a/two", "2")
              .hard_link("a/three", "a/one")
              .directory("a/sub", 0750, 3333)
              .file("a/sub/f", "f")
              .bytes());
    EXPECT_EQ(berth::read_file(at("a/two")), "2");
    EXPECT_EQ(berth::read_file(at("a/three")), "1");
    EXPECT_EQ(berth::read_file(at("a/sub/f")), "f");
    for (auto [path, mode, mtime] :
         {std::tuple{"a", 0555u, 1111}, {"b", 0700u, 2222}, {"a/sub", 0750u, 3333}}) {
        struct stat st = lstat_of(at(path));
        EXPECT_EQ(st.st_mode & 07777, mode) << path;
        EXPECT_EQ(st.st_mtime, mtime) << path;
    }
}

TEST_F(LayerApply, ParentsTheLayerDoesNotListAreMade) {
    apply(Layer().file("x/y/z", "z").file("x/y2/w", "w").bytes());
    EXPECT_EQ(berth::read_file(at("x/y/z")), "z");
    EXPECT_EQ(berth::read_file(at("x/y2/w")), "w");
    EXPECT_TRUE(S_ISDIR(lstat_of(at("x/y")).st_mode));
    EXPECT_EQ(lstat_of(at("x")).st_mode & 0700, 0700u);
}

TEST_F(LayerApply, OpenDirectoryReplacedByASymlinkIsNotWrittenThrough) {
    // The writer holds "a" and "a/b" open when the layer swaps "a" for a
    // symlink leading out; what follows must not land outside.
    std::string archive = Layer()
                              .directory("a")
                              .directory("a/b")
                              .file("a/b/f", "f")
                              .symlink("a", outside)
                              .file("a/b/evil", "x")
                              .bytes();
    EXPECT_THROW(apply(archive), berth::Error);
    EXPECT_TRUE(outside_is_empty());
    std::string inner = Layer()
                            .directory("c")
                            .directory("c/d")
                            .file("c/d/f", "f")
                            .symlink("c/d", outside)
                            .file("c/d/evil", "x")
                            .bytes();
    EXPECT_THROW(apply(inner), berth::Error);
    EXPECT_TRUE(outside_is_empty());
}

TEST_F(LayerApply, DirectoryListedTwiceKeepsItsChildrenAndTakesTheLastMetadata) {
    apply(Layer().directory("d", 0700, 10).file("d/f", "f").directory("d", 0751, 20).bytes());
    EXPECT_EQ(berth::read_file(at("d/f")), "f");
    EXPECT_EQ(lstat_of(at("d")).st_mode & 07777, 0751u);
    EXPECT_EQ(lstat_of(at("d")).st_mtime, 20);
}

TEST_F(LayerApply, UncompressedLayerIsItsOwnDiff) {
    std::string tar = Layer().file("f", "plain").bytes();
    std::string blob_path = temp.path() / "layer.tar";
    berth::write_file_atomic(blob_path, tar);
    berth::UniqueFd blob = berth::open_fd(blob_path, O_RDONLY);
    berth::oci::Descriptor descriptor{berth::oci::media_type::oci_layer,
                                      berth::oci::sha256_of(tar),
                                      static_cast<std::int64_t>(tar.size()),
                                      {},
                                      {}};
    auto result =
        unpack_layer(blob.get(), descriptor, berth::oci::sha256_of(tar), root_fd.get(), {});
    EXPECT_EQ(result.uncompressed_bytes, tar.size());
    EXPECT_EQ(result.compressed_bytes, tar.size());
    EXPECT_EQ(berth::read_file(at("f")), "plain");
    berth::make_directories(temp.path() / "second");
    berth::UniqueFd second = berth::open_fd(temp.path() / "second", O_RDONLY | O_DIRECTORY);
    EXPECT_THROW(
        unpack_layer(blob.get(), descriptor, berth::oci::sha256_of("other"), second.get(), {}),
        berth::Error);
}

TEST_F(LayerApply, CorruptCompressedLayerFailsThroughTheReadAheadThread) {
    std::string big(3u << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i)
        big[i] = static_cast<char>((i * 2654435761u) >> 24);
    std::string tar = Layer().file("big", big).file("after", "a").bytes();
    std::string compressed = berth_test::gzip(tar);
    compressed[compressed.size() / 2] ^= 0x5a;
    std::string blob_path = temp.path() / "corrupt.gz";
    berth::write_file_atomic(blob_path, compressed);
    berth::UniqueFd blob = berth::open_fd(blob_path, O_RDONLY);
    berth::oci::Descriptor descriptor{berth::oci::media_type::oci_layer_gzip,
                                      berth::oci::sha256_of(compressed),
                                      static_cast<std::int64_t>(compressed.size()),
                                      {},
                                      {}};
    EXPECT_THROW(
        unpack_layer(blob.get(), descriptor, berth::oci::sha256_of(tar), root_fd.get(), {}),
        berth::Error);
}

// A rootless store: the unpack runs as an ordinary user, who cannot make
// device nodes or set owners. Device nodes are skipped, the rest applies.
TEST(LayerApplyRootless, DeviceNodesAreSkippedAndTheRestApplies) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
    berth_test::TempDir temp{"berth-layer-rootless"};
    std::string snapshot = (temp.path() / "snapshot").string();
    berth::make_directories(snapshot);
    ASSERT_EQ(::chown(temp.path().c_str(), 65534, 65534), 0);
    ASSERT_EQ(::chown(snapshot.c_str(), 65534, 65534), 0);
    TarEntry device;
    device.type = TarEntryType::block_device;
    device.path = "dev/sda";
    device.mode = 0660;
    device.device_major = 8;
    std::string archive =
        Layer().directory("dev", 0755).entry(device).file("etc/motd", "hi", 0644).bytes();

    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        int code = 1;
        if (::setresgid(65534, 65534, 65534) == 0 && ::setresuid(65534, 65534, 65534) == 0) {
            try {
                berth::UniqueFd root = berth::open_fd(snapshot, O_RDONLY | O_DIRECTORY);
                MemorySource source(archive);
                TarReader reader(source);
                ApplyOptions options;
                options.preserve_ownership = false;
                apply_layer(reader, root.get(), options);
                code = 0;
            } catch (const berth::Error& error) {
                std::fprintf(stderr, "%s\n", error.what());
                code = 2;
            }
        }
        ::_exit(code);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the unprivileged apply failed";
    EXPECT_FALSE(berth::path_exists(snapshot + "/dev/sda"));
    EXPECT_EQ(berth::read_file(snapshot + "/etc/motd"), "hi");
}
