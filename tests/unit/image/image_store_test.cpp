#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/image/archive.h"
#include "berth/image/image_store.h"
#include "berth_test/temp_dir.hpp"
#include "test_archives.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace berth::image;
using berth_test::Layer;
namespace oci = berth::oci;

namespace {

class ImageStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (layer ownership)";
        store = std::make_unique<ImageStore>(StoreOptions{root.path().string(), 2, {}});
    }

    oci::Descriptor store_layer(const std::string& tar, bool compress = false) {
        std::string bytes = compress ? berth_test::gzip(tar) : tar;
        oci::Descriptor layer;
        layer.media_type = compress ? oci::media_type::oci_layer_gzip : oci::media_type::oci_layer;
        layer.digest = store->blobs().put(bytes);
        layer.size = static_cast<std::int64_t>(bytes.size());
        return layer;
    }

    Image make_image(const std::vector<std::string>& layer_tars,
                     const std::vector<std::string>& names, const std::string& cmd = "sh") {
        oci::ImageConfig config;
        config.architecture = "amd64";
        config.os = "linux";
        config.config.cmd = {cmd};
        std::vector<oci::Descriptor> layers;
        for (std::size_t i = 0; i < layer_tars.size(); ++i) {
            layers.push_back(store_layer(layer_tars[i], i % 2 == 1));
            config.diff_ids.push_back(oci::sha256_of(layer_tars[i]));
        }
        return store->add_from_parts(oci::image_config_to_json(config), layers, names);
    }

    berth_test::TempDir root{"berth-store"};
    std::unique_ptr<ImageStore> store;
};

} // namespace

TEST_F(ImageStoreTest, ResolvesByNameIdAndPrefix) {
    Image image = make_image({Layer().file("a", "1").bytes()}, {"busybox"});
    EXPECT_EQ(image.names, std::vector<std::string>{"docker.io/library/busybox:latest"});
    EXPECT_EQ(store->resolve("busybox").id, image.id);
    EXPECT_EQ(store->resolve("docker.io/library/busybox:latest").id, image.id);
    EXPECT_EQ(store->resolve(image.id.str()).id, image.id);
    EXPECT_EQ(store->resolve(image.id.short_hex()).id, image.id);
    EXPECT_EQ(store->resolve("busybox@" + image.manifest_digest.str()).id, image.id);
    EXPECT_THROW(store->resolve("busybox:other"), berth::Error);
    EXPECT_EQ(store->resolve("busybox").config.config.cmd, std::vector<std::string>{"sh"});
}

TEST_F(ImageStoreTest, LayersAreUnpackedAndSharedByChainId) {
    std::string base = Layer().file("base", "b").bytes();
    Image first = make_image({base, Layer().file("one", "1").bytes()}, {"first"});
    Image second = make_image({base, Layer().file("two", "2").bytes()}, {"second"});
    EXPECT_EQ(first.chain_ids()[0], second.chain_ids()[0]);
    EXPECT_EQ(store->snapshots().list().size(), 3u); // base is shared
    auto paths = store->unpack(first);
    ASSERT_EQ(paths.size(), 2u);
    EXPECT_EQ(berth::read_file(paths[0] + "/base"), "b");
    EXPECT_EQ(berth::read_file(paths[1] + "/one"), "1");
}

TEST_F(ImageStoreTest, GarbageCollectionKeepsWhatIsStillReachable) {
    std::string base = Layer().file("base", "b").bytes();
    Image first = make_image({base, Layer().file("one", "1").bytes()}, {"first"});
    Image second = make_image({base}, {"second"});
    store->tag("second", "alias");

    auto untag = store->remove("alias", false); // second keeps its other name
    EXPECT_TRUE(untag.deleted.empty());
    EXPECT_NO_THROW(store->resolve("second"));

    store->remove("first", false);
    EXPECT_THROW(store->resolve("first"), berth::Error);
    // The shared base layer's blob and snapshot stay, first's own go.
    EXPECT_TRUE(store->snapshots().has(second.chain_ids()[0]));
    EXPECT_FALSE(store->snapshots().has(first.chain_ids()[1]));
    EXPECT_TRUE(store->blobs().has(second.manifest.layers[0].digest));
    EXPECT_FALSE(store->blobs().has(first.manifest.layers[1].digest));
    EXPECT_FALSE(store->blobs().has(first.manifest_digest));

    store->remove("second", false);
    EXPECT_TRUE(store->blobs().list().empty());
    EXPECT_TRUE(store->snapshots().list().empty());
}

TEST_F(ImageStoreTest, RemovingByIdWithSeveralNamesNeedsForce) {
    Image image = make_image({Layer().file("a", "1").bytes()}, {"one", "two"});
    EXPECT_THROW(store->remove(image.id.short_hex(), false), berth::Error);
    auto removed = store->remove(image.id.short_hex(), true);
    EXPECT_EQ(removed.untagged.size(), 2u);
    EXPECT_EQ(removed.deleted.size(), 1u);
}

TEST_F(ImageStoreTest, PruneRemovesOnlyUnnamedImages) {
    Image named = make_image({Layer().file("a", "1").bytes()}, {"named"});
    Image first = make_image({Layer().file("b", "2").bytes()}, {"moving"});
    make_image({Layer().file("c", "3").bytes()}, {"moving"}); // takes the name from `first`
    auto pruned = store->prune(false);
    ASSERT_EQ(pruned.deleted.size(), 1u);
    EXPECT_EQ(pruned.deleted[0], first.id);
    EXPECT_EQ(store->list().size(), 2u);
    EXPECT_EQ(store->prune(true).deleted.size(), 2u);
    EXPECT_TRUE(store->list().empty());
}

TEST_F(ImageStoreTest, ALayerWithTheWrongDiffIdIsNeverIndexed) {
    oci::ImageConfig config;
    config.architecture = "amd64";
    config.os = "linux";
    config.diff_ids = {oci::sha256_of("not this layer")};
    auto layer = store_layer(Layer().file("a", "1").bytes());
    EXPECT_THROW(store->add_from_parts(oci::image_config_to_json(config), {layer}, {"bad"}),
                 berth::Error);
    EXPECT_TRUE(store->list().empty());
    EXPECT_TRUE(store->snapshots().list().empty());
}

TEST_F(ImageStoreTest, LeftoversOfAKilledCommandAreRemovedAtOpen) {
    make_image({Layer().file("a", "1").bytes()}, {"img"});
    store.reset();
    berth::make_directories(root.path() / "snapshots/.tmp-killed/fs/usr");
    berth::write_file_atomic(root.path() / "blobs/sha256/.ingest-killed", "partial");
    store = std::make_unique<ImageStore>(StoreOptions{root.path().string(), 2, {}});
    EXPECT_FALSE(berth::path_exists(root.path() / "snapshots/.tmp-killed"));
    EXPECT_FALSE(berth::path_exists(root.path() / "blobs/sha256/.ingest-killed"));
    EXPECT_NO_THROW(store->resolve("img"));
}

TEST_F(ImageStoreTest, DatabaseRecordsItsSchemaVersion) {
    auto query = store->database().prepare(
        "SELECT version FROM schema_versions WHERE component = 'image_index'");
    ASSERT_TRUE(query.step());
    EXPECT_EQ(query.integer(0), 1);
    query.run();
    auto mode = store->database().prepare("PRAGMA journal_mode");
    ASSERT_TRUE(mode.step());
    EXPECT_EQ(mode.text(0), "wal");
    mode.run();
}

TEST_F(ImageStoreTest, ImportAppliesChanges) {
    std::string tar = Layer().file("bin/tool", "#!", 0755).bytes();
    std::string compressed = berth_test::gzip(tar);
    MemorySource source(compressed);
    ImportOptions options;
    options.changes = {"CMD [\"/bin/tool\", \"--run\"]",
                       "ENV A=1 B=2",
                       "WORKDIR /srv",
                       "EXPOSE 80",
                       "USER nobody",
                       "ENTRYPOINT exec tool"};
    Image image = import_tarball(*store, source, {"tool:1"}, options);
    EXPECT_EQ(image.config.config.cmd, (std::vector<std::string>{"/bin/tool", "--run"}));
    EXPECT_EQ(image.config.config.env, (std::vector<std::string>{"A=1", "B=2"}));
    EXPECT_EQ(image.config.config.working_dir, "/srv");
    EXPECT_EQ(image.config.config.exposed_ports, std::vector<std::string>{"80/tcp"});
    EXPECT_EQ(image.config.config.user, "nobody");
    EXPECT_EQ(image.config.config.entrypoint,
              (std::vector<std::string>{"/bin/sh", "-c", "exec tool"}));
    // Stored compressed, with the diffID of the uncompressed tar.
    EXPECT_EQ(image.manifest.layers[0].media_type, oci::media_type::oci_layer_gzip);
    EXPECT_EQ(image.config.diff_ids[0], oci::sha256_of(tar));
    EXPECT_THROW(apply_change(image.config.config, "RUN rm -rf /"), berth::Error);
}

TEST_F(ImageStoreTest, ImportFindsTheDiffIdWhileUnpacking) {
    std::string tar = Layer().directory("etc").file("etc/os", "berth").bytes();
    std::string compressed = berth_test::zstd(tar);
    MemorySource source(compressed);
    Image image = import_tarball(*store, source, {"zipped:1"}, {});
    ASSERT_EQ(image.config.diff_ids.size(), 1u);
    EXPECT_EQ(image.config.diff_ids[0], oci::sha256_of(tar));
    EXPECT_EQ(image.manifest.layers[0].digest, oci::sha256_of(compressed));
    EXPECT_EQ(store->snapshots().list(), std::vector<oci::Digest>{oci::sha256_of(tar)});
    EXPECT_EQ(berth::read_file(store->unpack(image)[0] + "/etc/os"), "berth");
}

TEST_F(ImageStoreTest, DurableSnapshotsUnpackAlike) {
    berth_test::TempDir durable_root{"berth-durable"};
    StoreOptions options{durable_root.path().string(), 2, {}};
    options.durable_snapshots = true;
    ImageStore durable(options);
    std::string tar = Layer().file("f", "kept").bytes();
    MemorySource source(tar);
    Image image = import_tarball(durable, source, {"durable:1"}, {});
    EXPECT_EQ(berth::read_file(durable.unpack(image)[0] + "/f"), "kept");
}

TEST(ImageStoreInUse, AnImageAContainerUsesKeepsItsLayers) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (layer ownership)";
    berth_test::TempDir root{"berth-store"};
    std::map<oci::Digest, std::string> in_use;
    StoreOptions options{root.path().string(), 2, {}};
    options.images_in_use = [&in_use] { return in_use; };
    ImageStore store(options);
    std::string tar = Layer().file("a", "1").bytes();
    oci::ImageConfig config;
    config.architecture = "amd64";
    config.os = "linux";
    config.diff_ids = {oci::sha256_of(tar)};
    oci::Descriptor layer{oci::media_type::oci_layer, store.blobs().put(tar),
                          static_cast<std::int64_t>(tar.size())};
    Image image = store.add_from_parts(oci::image_config_to_json(config), {layer}, {"used"});
    in_use[image.id] = "web";

    try {
        store.remove("used", false);
        FAIL() << "removed an image a container uses";
    } catch (const berth::Error& error) {
        EXPECT_NE(std::string(error.what()).find("container web is using it"), std::string::npos)
            << error.what();
    }
    EXPECT_EQ(store.resolve("used").id, image.id);

    // Forced: the name goes, the image and its snapshot stay (docker's way).
    auto removed = store.remove("used", true);
    EXPECT_EQ(removed.untagged.size(), 1u);
    EXPECT_TRUE(removed.deleted.empty());
    EXPECT_EQ(store.prune(true).deleted.size(), 0u);
    EXPECT_TRUE(store.blobs().has(layer.digest));
    EXPECT_EQ(store.snapshots().list().size(), 1u);

    // The container gone, the nameless image is pruned with its layer.
    in_use.clear();
    EXPECT_EQ(store.prune(false).deleted.size(), 1u);
    EXPECT_FALSE(store.blobs().has(layer.digest));
    EXPECT_TRUE(store.snapshots().list().empty());
}
