#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/image/rootfs.h"
#include "berth_test/temp_dir.hpp"
#include "test_archives.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

using namespace berth::image;
using berth_test::Layer;
namespace oci = berth::oci;

namespace {

class RootfsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (overlay mounts)";
        // A long root makes every lower directory path long, as in real
        // installs with deep roots: 60 of them overflow a page of options.
        std::string deep = (temp.path() / std::string(120, 'd')).string();
        store = std::make_unique<ImageStore>(StoreOptions{deep, 2, {}});
    }
    void TearDown() override {
        if (!container_dir.empty()) unmount_rootfs(container_dir);
    }

    berth_test::TempDir temp{"berth-rootfs"};
    std::unique_ptr<ImageStore> store;
    std::string container_dir;
};

} // namespace

TEST_F(RootfsTest, ManyLayersMountWithWhiteoutsAndAPrivateUpper) {
    constexpr int layer_count = 60;
    oci::ImageConfig config;
    config.architecture = "amd64";
    config.os = "linux";
    std::vector<oci::Descriptor> layers;
    for (int i = 0; i < layer_count; ++i) {
        Layer layer;
        layer.file("layer" + std::to_string(i), std::to_string(i));
        if (i == 0) layer.file("deleted-later", "x").file("dir/old", "x");
        if (i == layer_count - 1)
            layer.file(".wh.deleted-later", "").file("dir/.wh..wh..opq", "").file("dir/new", "n");
        std::string tar = layer.bytes();
        oci::Descriptor descriptor;
        descriptor.media_type = oci::media_type::oci_layer;
        descriptor.digest = store->blobs().put(tar);
        descriptor.size = static_cast<std::int64_t>(tar.size());
        layers.push_back(descriptor);
        config.diff_ids.push_back(descriptor.digest);
    }
    Image image = store->add_from_parts(oci::image_config_to_json(config), layers, {"many"});

    container_dir = (temp.path() / "container").string();
    std::string rootfs = mount_rootfs(*store, image, container_dir);
    EXPECT_TRUE(is_mount_point(rootfs));
    EXPECT_EQ(berth::read_file(rootfs + "/layer0"), "0");
    EXPECT_EQ(berth::read_file(rootfs + "/layer59"), "59");
    EXPECT_FALSE(berth::path_exists(rootfs + "/deleted-later"));
    EXPECT_FALSE(berth::path_exists(rootfs + "/dir/old"));
    EXPECT_EQ(berth::read_file(rootfs + "/dir/new"), "n");

    // Writes land in the container's upper, never in a shared snapshot.
    berth::write_file_atomic(rootfs + "/layer0", "changed");
    EXPECT_EQ(berth::read_file(container_dir + "/upper/layer0"), "changed");
    EXPECT_EQ(berth::read_file(store->unpack(image)[0] + "/layer0"), "0");

    unmount_rootfs(container_dir);
    EXPECT_FALSE(is_mount_point(rootfs));
    container_dir.clear();
}

TEST_F(RootfsTest, ImageMountIsReadOnlyAndUnmounts) {
    oci::ImageConfig config;
    config.architecture = "amd64";
    config.os = "linux";
    std::string tar = Layer().file("only", "1").bytes();
    oci::Descriptor descriptor{oci::media_type::oci_layer,
                               store->blobs().put(tar),
                               static_cast<std::int64_t>(tar.size()),
                               {},
                               {}};
    config.diff_ids = {descriptor.digest};
    Image image = store->add_from_parts(oci::image_config_to_json(config), {descriptor}, {"one"});
    std::string path = mount_image(*store, image);
    EXPECT_EQ(berth::read_file(path + "/only"), "1");
    EXPECT_EQ(mount_image(*store, image), path); // twice: same mount
    EXPECT_THROW(berth::write_file_atomic(path + "/new", "x"), berth::Error);
    EXPECT_TRUE(unmount_image(*store, image));
    EXPECT_FALSE(is_mount_point(path));
}
