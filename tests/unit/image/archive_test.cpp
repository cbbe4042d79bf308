#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/image/archive.h"
#include "berth/image/tar_writer.h"
#include "berth_test/temp_dir.hpp"
#include "test_archives.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <nlohmann/json.hpp>

using namespace berth::image;
using berth_test::Layer;
namespace oci = berth::oci;

namespace {

class ArchiveTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (layer ownership)";
        store = std::make_unique<ImageStore>(StoreOptions{(temp.path() / "root").string(), 2, {}});
    }

    Image sample_image() {
        std::string tar = Layer().file("etc/os-release", "ID=test\n").bytes();
        MemorySource source(tar); // a view: the bytes must outlive it
        ImportOptions options;
        options.changes = {"CMD [\"sh\"]"};
        return import_tarball(*store, source, {"sample:1"}, options);
    }

    std::vector<LoadedImage> load_file(ImageStore& into, const std::string& path) {
        berth::UniqueFd fd = berth::open_fd(path, O_RDONLY);
        FdSource source(fd.get(), path);
        return load_archive(into, source);
    }

    berth_test::TempDir temp{"berth-archive"};
    std::unique_ptr<ImageStore> store;
};

} // namespace

TEST_F(ArchiveTest, SaveThenLoadGivesTheSameImage) {
    Image image = sample_image();
    for (auto format : {SaveFormat::docker_archive, SaveFormat::oci_archive}) {
        std::string path = temp.path() / "saved.tar";
        {
            berth::UniqueFd out = berth::open_fd(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            save_images(*store, {"sample:1"}, format, out.get());
        }
        ImageStore other(StoreOptions{(temp.path() / "other").string(), 2, {}});
        auto loaded = load_file(other, path);
        ASSERT_EQ(loaded.size(), 1u);
        EXPECT_EQ(loaded[0].id, image.id);
        Image copy = other.resolve("sample:1");
        EXPECT_EQ(copy.manifest_digest, image.manifest_digest);
        EXPECT_EQ(berth::read_file(other.unpack(copy)[0] + "/etc/os-release"), "ID=test\n");
        other.prune(true);
    }
}

TEST_F(ArchiveTest, OciDirectoryRoundTrips) {
    Image image = sample_image();
    std::string layout = temp.path() / "layout";
    save_images(*store, {"sample:1"}, SaveFormat::oci_directory, -1, layout);
    EXPECT_TRUE(berth::path_exists(layout + "/oci-layout"));
    ImageStore other(StoreOptions{(temp.path() / "other").string(), 2, {}});
    auto loaded = load_oci_directory(other, layout);
    ASSERT_EQ(loaded.size(), 1u);
    EXPECT_EQ(loaded[0].id, image.id);
    EXPECT_NO_THROW(other.resolve("sample:1"));
}

TEST_F(ArchiveTest, LoadsALegacyDockerArchiveWithLinkedLayers) {
    // As `docker save` wrote before Docker 25: <id>/layer.tar, a config
    // named <id>.json, and a repeated layer as a symlink to its first copy.
    std::string layer = Layer().file("hello", "world").bytes();
    oci::ImageConfig config;
    config.architecture = "amd64";
    config.os = "linux";
    config.diff_ids = {oci::sha256_of(layer), oci::sha256_of(layer)};
    std::string config_json = oci::image_config_to_json(config);
    std::string config_name = oci::sha256_of(config_json).hex() + ".json";
    nlohmann::json manifest =
        nlohmann::json::array({{{"Config", config_name},
                                {"RepoTags", {"legacy:latest"}},
                                {"Layers", {"aaa/layer.tar", "bbb/layer.tar"}}}});
    std::string path = temp.path() / "legacy.tar";
    {
        berth::UniqueFd out = berth::open_fd(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        TarWriter writer(out.get());
        writer.file("aaa/layer.tar", layer);
        TarEntry link;
        link.type = TarEntryType::symlink;
        link.path = "bbb/layer.tar";
        link.link_target = "../aaa/layer.tar";
        writer.header(link);
        writer.file(config_name, config_json);
        writer.file("manifest.json", manifest.dump());
        writer.finish();
    }
    auto loaded = load_file(*store, path);
    ASSERT_EQ(loaded.size(), 1u);
    Image image = store->resolve("legacy");
    EXPECT_EQ(image.manifest.layers.size(), 2u);
    EXPECT_EQ(berth::read_file(store->unpack(image)[1] + "/hello"), "world");
}

TEST_F(ArchiveTest, RefusesABlobWhoseContentDoesNotMatchItsName) {
    std::string path = temp.path() / "forged.tar";
    std::string wrong_name = "blobs/sha256/" + oci::sha256_of("expected").hex();
    {
        berth::UniqueFd out = berth::open_fd(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        TarWriter writer(out.get());
        writer.file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
        writer.file(wrong_name, "forged");
        writer.finish();
    }
    EXPECT_THROW(load_file(*store, path), berth::Error);
    EXPECT_TRUE(store->blobs().list().empty());
}

TEST_F(ArchiveTest, RefusesAnArchiveWithoutImages) {
    std::string path = temp.path() / "empty.tar";
    {
        berth::UniqueFd out = berth::open_fd(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        TarWriter writer(out.get());
        writer.file("readme", "nothing here");
        writer.finish();
    }
    EXPECT_THROW(load_file(*store, path), berth::Error);
}
