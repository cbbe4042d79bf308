// berth push and pull against a real docker-registry over plain HTTP on
// 127.0.0.1: round trips with identical digests, mounts, chunked uploads,
// multi-platform indexes, and a proxy that drops or corrupts blob streams.
#include "registry_fixture.hpp"
#include "test_helpers.hpp"

#include <memory>
#include <sys/utsname.h>
#include <thread>

namespace registry_test {
namespace {

class PlainRegistryTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        if (!tools_installed()) return;
        dir_ = new berth_test::TempDir("berth-registry-test");
        registry_ = new RegistryProcess(dir_->path() / "registry", RegistryConfig{});
        source_ = dir_->path() / "source";
        make_busybox(source_, host() + "/test/busybox:1");
        CommandResult pushed = berth(source_, {"push", host() + "/test/busybox:1"});
        ASSERT_EQ(pushed.exit_code, 0) << pushed;
        json image = inspect(source_, host() + "/test/busybox:1");
        image_id_ = image["Id"];
        json manifest = json::parse(
            get("http://" + host() + "/v2/test/busybox/manifests/1", image_media_type()));
        layer_ = manifest["layers"][0]["digest"];
        layer_size_ = manifest["layers"][0]["size"];
    }
    static void TearDownTestSuite() {
        delete registry_;
        delete dir_;
        registry_ = nullptr;
        dir_ = nullptr;
    }
    void SetUp() override {
        if (!registry_)
            GTEST_SKIP() << "needs docker-registry, htpasswd (apache2-utils), openssl and curl";
    }

    static std::string host() { return registry_->host(); }
    static std::string image_media_type() {
        return "application/vnd.oci.image.manifest.v1+json,application/"
               "vnd.docker.distribution.manifest.v2+json";
    }
    // A fresh store for one test.
    fs::path empty_root(const std::string& name) {
        return dir_->path() /
               (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
                name);
    }
    // The busybox config with `edit` applied, as a new image `repository:tag`
    // sharing busybox's layer; returns its manifest's JSON text.
    static std::string derived_image(const std::string& repository, const std::string& tag,
                                     const std::function<void(json&)>& edit) {
        json manifest = json::parse(
            get("http://" + host() + "/v2/test/busybox/manifests/1", image_media_type()));
        std::string config_digest = manifest["config"]["digest"];
        json config =
            json::parse(get("http://" + host() + "/v2/test/busybox/blobs/" + config_digest));
        edit(config);
        std::string config_text = config.dump();
        // The layer into the new repository too, as a registry needs.
        CommandResult mounted =
            curl({"-X", "POST",
                  "http://" + host() + "/v2/" + repository + "/blobs/uploads/?mount=" + layer_ +
                      "&from=test/busybox"});
        EXPECT_EQ(mounted.exit_code, 0) << mounted;
        manifest["config"]["digest"] = put_blob(host(), repository, config_text);
        manifest["config"]["size"] = config_text.size();
        std::string content = manifest.dump();
        put_manifest(host(), repository, tag, manifest["mediaType"], content);
        return content;
    }

    // Pushes test/busybox:`tag` as an index of two images: busybox itself
    // for `native`, and a copy of it tagged `foreign_tag` whose config says
    // `foreign`. Returns the index's digest.
    static std::string push_two_platform_index(const std::string& tag,
                                               const std::string& foreign_tag,
                                               const std::string& native,
                                               const std::string& foreign) {
        std::string native_manifest =
            get("http://" + host() + "/v2/test/busybox/manifests/1", image_media_type());
        std::string foreign_manifest = derived_image(
            "test/busybox", foreign_tag, [&](json& config) { config["architecture"] = foreign; });
        json index = {{"schemaVersion", 2},
                      {"mediaType", "application/vnd.oci.image.index.v1+json"},
                      {"manifests",
                       {{{"mediaType", json::parse(foreign_manifest)["mediaType"]},
                         {"digest", "sha256:" + sha256_hex(foreign_manifest)},
                         {"size", foreign_manifest.size()},
                         {"platform", {{"os", "linux"}, {"architecture", foreign}}}},
                        {{"mediaType", json::parse(native_manifest)["mediaType"]},
                         {"digest", "sha256:" + sha256_hex(native_manifest)},
                         {"size", native_manifest.size()},
                         {"platform", {{"os", "linux"}, {"architecture", native}}}}}}};
        return put_manifest(host(), "test/busybox", tag, "application/vnd.oci.image.index.v1+json",
                            index.dump());
    }

    static berth_test::TempDir* dir_;
    static RegistryProcess* registry_;
    static fs::path source_;
    static std::string image_id_, layer_;
    static std::size_t layer_size_;
};

berth_test::TempDir* PlainRegistryTest::dir_ = nullptr;
RegistryProcess* PlainRegistryTest::registry_ = nullptr;
fs::path PlainRegistryTest::source_;
std::string PlainRegistryTest::image_id_, PlainRegistryTest::layer_;
std::size_t PlainRegistryTest::layer_size_ = 0;

std::string host_architecture() {
    utsname name{};
    ::uname(&name);
    return std::string(name.machine) == "aarch64" ? "arm64" : "amd64";
}

TEST_F(PlainRegistryTest, PullIntoAnEmptyStoreGivesTheSameImage) {
    fs::path root = empty_root("pulled");
    CommandResult pulled = berth(root, {"pull", host() + "/test/busybox:1"});
    ASSERT_EQ(pulled.exit_code, 0) << pulled;
    EXPECT_NE(pulled.out.find("Pull complete"), std::string::npos) << pulled;
    EXPECT_NE(pulled.out.find("Status: Downloaded newer image for " + host() + "/test/busybox:1"),
              std::string::npos);
    json mine = inspect(source_, host() + "/test/busybox:1");
    json theirs = inspect(root, host() + "/test/busybox:1");
    ASSERT_TRUE(theirs.is_object());
    EXPECT_EQ(theirs["Id"], mine["Id"]);
    EXPECT_EQ(theirs["Descriptor"], mine["Descriptor"]);
    EXPECT_EQ(theirs["RootFS"], mine["RootFS"]);
    std::string digest = mine["Descriptor"]["digest"];
    EXPECT_NE(pulled.out.find("Digest: " + digest), std::string::npos) << pulled;

    // Unpacked as `berth load` unpacks: the busybox binary is in its snapshot.
    bool found = false;
    for (const auto& entry : fs::directory_iterator(root / "snapshots"))
        found = found || fs::exists(entry.path() / "fs" / "bin" / "busybox");
    EXPECT_TRUE(found) << "no snapshot holds bin/busybox";

    CommandResult again = berth(root, {"pull", host() + "/test/busybox:1"});
    ASSERT_EQ(again.exit_code, 0) << again;
    EXPECT_NE(again.out.find("Already exists"), std::string::npos) << again;
    EXPECT_NE(again.out.find("Status: Image is up to date"), std::string::npos) << again;

    CommandResult quiet =
        berth(empty_root("quiet"), {"pull", "-q", host() + "/test/busybox@" + digest});
    ASSERT_EQ(quiet.exit_code, 0) << quiet;
    EXPECT_EQ(count_lines(quiet.out), 1) << quiet;
}

TEST_F(PlainRegistryTest, CreatingAContainerOfAMissingImagePullsIt) {
    fs::path root = empty_root("created");
    CommandResult created = berth(root, {"create", host() + "/test/busybox:1", "true"});
    ASSERT_EQ(created.exit_code, 0) << created;
    EXPECT_NE(created.err.find("Unable to find image '" + host() + "/test/busybox:1' locally"),
              std::string::npos)
        << created;
    EXPECT_NE(created.err.find("Pull complete"), std::string::npos) << created;
    EXPECT_EQ(count_lines(created.out), 1) << "only the container's ID on stdout: " << created;
    EXPECT_EQ(inspect(root, host() + "/test/busybox:1")["Id"], image_id_);
    std::string id = created.out.substr(0, created.out.find('\n'));
    EXPECT_EQ(berth(root, {"rm", id}).exit_code, 0);

    CommandResult missing = berth(root, {"create", host() + "/test/busybox:nope", "true"});
    EXPECT_NE(missing.exit_code, 0);
    EXPECT_NE(missing.err.find("manifest unknown"), std::string::npos) << missing;
}

TEST_F(PlainRegistryTest, PushSkipsWhatTheRegistryHasAndMountsFromAnotherRepository) {
    CommandResult again = berth(source_, {"push", host() + "/test/busybox:1"});
    ASSERT_EQ(again.exit_code, 0) << again;
    EXPECT_NE(again.out.find("Layer already exists"), std::string::npos) << again;
    EXPECT_EQ(again.out.find("Pushed"), std::string::npos) << again;

    ASSERT_EQ(berth(source_, {"tag", host() + "/test/busybox:1", host() + "/mounted/busybox:1"})
                  .exit_code,
              0);
    CommandResult mounted = berth(source_, {"push", host() + "/mounted/busybox:1"});
    ASSERT_EQ(mounted.exit_code, 0) << mounted;
    EXPECT_NE(mounted.out.find("Mounted from test/busybox"), std::string::npos) << mounted;
    fs::path root = empty_root("pulled");
    ASSERT_EQ(berth(root, {"pull", host() + "/mounted/busybox:1"}).exit_code, 0);
    EXPECT_EQ(inspect(root, host() + "/mounted/busybox:1")["Id"], image_id_);
}

TEST_F(PlainRegistryTest, BigBlobsGoUpInChunks) {
    fs::path source = empty_root("source");
    make_busybox(source, host() + "/chunked/busybox:1");
    CommandResult pushed =
        berth(source, {"push", host() + "/chunked/busybox:1"}, {"BERTH_PUSH_CHUNK_SIZE=262144"});
    ASSERT_EQ(pushed.exit_code, 0) << pushed;
    EXPECT_NE(registry_->log().find("\"PATCH /v2/chunked/busybox/blobs/uploads/"),
              std::string::npos)
        << "no PATCH in the registry's log";
    fs::path root = empty_root("pulled");
    ASSERT_EQ(berth(root, {"pull", host() + "/chunked/busybox:1"}).exit_code, 0);
    EXPECT_EQ(inspect(root, host() + "/chunked/busybox:1")["Descriptor"],
              inspect(source, host() + "/chunked/busybox:1")["Descriptor"]);
}

TEST_F(PlainRegistryTest, MissingManifestIsOneClearLineAndTheStoreStaysEmpty) {
    fs::path root = empty_root("pulled");
    CommandResult pulled = berth(root, {"pull", host() + "/test/busybox:nope"});
    EXPECT_EQ(pulled.exit_code, 1);
    EXPECT_NE(pulled.err.find("manifest unknown"), std::string::npos) << pulled;
    EXPECT_EQ(count_lines(pulled.err), 1) << pulled;
    expect_empty_store(root);
}

TEST_F(PlainRegistryTest, UnknownHostAndClosedPortAreClear) {
    fs::path root = empty_root("pulled");
    CommandResult unknown = berth(root, {"pull", "no-such-registry.invalid/test/busybox:1"});
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_NE(unknown.err.find("unknown host"), std::string::npos) << unknown;
    EXPECT_EQ(count_lines(unknown.err), 1) << unknown;
    CommandResult closed =
        berth(root, {"pull", "127.0.0.1:" + std::to_string(berth_test::free_loopback_port()) +
                                 "/test/busybox:1"});
    EXPECT_EQ(closed.exit_code, 1);
    EXPECT_NE(closed.err.find("cannot connect to 127.0.0.1"), std::string::npos) << closed;
    expect_empty_store(root);
}

TEST_F(PlainRegistryTest, AMultiPlatformIndexGivesThePlatformAsked) {
    std::string native = host_architecture();
    std::string foreign = native == "amd64" ? "arm64" : "amd64";
    std::string index_digest = push_two_platform_index("multi", "foreign", native, foreign);

    fs::path root = empty_root("native");
    CommandResult pulled = berth(root, {"pull", host() + "/test/busybox:multi"});
    ASSERT_EQ(pulled.exit_code, 0) << pulled;
    EXPECT_NE(pulled.out.find("Digest: " + index_digest), std::string::npos) << pulled;
    EXPECT_EQ(inspect(root, host() + "/test/busybox:multi")["Id"], image_id_);

    fs::path other = empty_root("foreign");
    CommandResult chosen =
        berth(other, {"pull", "--platform", "linux/" + foreign, host() + "/test/busybox:multi"});
    ASSERT_EQ(chosen.exit_code, 0) << chosen;
    json image = inspect(other, host() + "/test/busybox:multi");
    EXPECT_EQ(image["Architecture"], foreign);
    EXPECT_NE(image["Id"], image_id_);

    CommandResult missing = berth(
        empty_root("none"), {"pull", "--platform", "linux/s390x", host() + "/test/busybox:multi"});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.err.find("no image for linux/s390x"), std::string::npos) << missing;
}

TEST_F(PlainRegistryTest, DockerSchema2ManifestsAndListsRoundTrip) {
    json manifest =
        json::parse(get("http://" + host() + "/v2/test/busybox/manifests/1", image_media_type()));
    manifest["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json";
    manifest["config"]["mediaType"] = "application/vnd.docker.container.image.v1+json";
    manifest["layers"][0]["mediaType"] = "application/vnd.docker.image.rootfs.diff.tar";
    std::string content = manifest.dump();
    std::string digest =
        put_manifest(host(), "test/busybox", "docker", manifest["mediaType"], content);
    json list = {{"schemaVersion", 2},
                 {"mediaType", "application/vnd.docker.distribution.manifest.list.v2+json"},
                 {"manifests",
                  {{{"mediaType", manifest["mediaType"]},
                    {"digest", digest},
                    {"size", content.size()},
                    {"platform", {{"os", "linux"}, {"architecture", host_architecture()}}}}}}};
    put_manifest(host(), "test/busybox", "dockerlist", list["mediaType"], list.dump());

    fs::path root = empty_root("pulled");
    CommandResult pulled = berth(root, {"pull", host() + "/test/busybox:dockerlist"});
    ASSERT_EQ(pulled.exit_code, 0) << pulled;
    json image = inspect(root, host() + "/test/busybox:dockerlist");
    EXPECT_EQ(image["Id"], image_id_);
    EXPECT_EQ(image["Descriptor"]["digest"], digest);
    EXPECT_EQ(image["Descriptor"]["mediaType"],
              "application/vnd.docker.distribution.manifest.v2+json");

    // Pushed on as it is: the same bytes, so the same digest.
    ASSERT_EQ(
        berth(root, {"tag", host() + "/test/busybox:dockerlist", host() + "/copied/busybox:1"})
            .exit_code,
        0);
    CommandResult pushed = berth(root, {"push", host() + "/copied/busybox:1"});
    ASSERT_EQ(pushed.exit_code, 0) << pushed;
    EXPECT_NE(pushed.out.find("1: digest: " + digest), std::string::npos) << pushed;
}

TEST_F(PlainRegistryTest, ADroppedBlobStreamResumesWithRange) {
    TcpProxy proxy(registry_->port());
    proxy.cut_blob_once(layer_, layer_size_ / 2);
    fs::path root = empty_root("pulled");
    CommandResult pulled = berth(root, {"pull", proxy.host() + "/test/busybox:1"});
    ASSERT_EQ(pulled.exit_code, 0) << pulled;
    EXPECT_EQ(proxy.blob_gets(layer_), 2) << "the layer was not asked for again";
    EXPECT_EQ(proxy.ranged_blob_gets(layer_), 1) << "the second request did not resume with Range";
    EXPECT_EQ(inspect(root, proxy.host() + "/test/busybox:1")["Id"], image_id_);
}

TEST_F(PlainRegistryTest, AConnectionThatKeepsDroppingFailsClearlyAndNothingIsStored) {
    TcpProxy proxy(registry_->port());
    proxy.cut_blob_always(layer_, 1000);
    fs::path root = empty_root("pulled");
    CommandResult pulled = berth(root, {"pull", proxy.host() + "/test/busybox:1"});
    EXPECT_EQ(pulled.exit_code, 1);
    EXPECT_NE(pulled.err.find("the connection dropped at 4000 of " + std::to_string(layer_size_) +
                              " bytes"),
              std::string::npos)
        << pulled;
    EXPECT_EQ(count_lines(pulled.err), 1) << pulled;
    EXPECT_EQ(proxy.blob_gets(layer_), 4) << "one request and three resumes";
    expect_empty_store(root);
}

TEST_F(PlainRegistryTest, BlobsRedirectedElsewhereAreFollowed) {
    TcpProxy proxy(registry_->port());
    proxy.redirect_blobs();
    fs::path root = empty_root("pulled");
    CommandResult pulled = berth(root, {"pull", proxy.host() + "/test/busybox:1"});
    ASSERT_EQ(pulled.exit_code, 0) << pulled;
    EXPECT_EQ(proxy.blob_gets(layer_), 1);
    EXPECT_EQ(inspect(root, proxy.host() + "/test/busybox:1")["Id"], image_id_);
}

TEST_F(PlainRegistryTest, ALayerThatIsNotWhatTheConfigSaysIsRefused) {
    derived_image("test/lying", "1", [](json& config) {
        config["rootfs"]["diff_ids"][0] = "sha256:" + std::string(64, 'b');
    });
    fs::path root = empty_root("pulled");
    CommandResult pulled = berth(root, {"pull", host() + "/test/lying:1"});
    EXPECT_EQ(pulled.exit_code, 1);
    EXPECT_NE(pulled.err.find("diffID mismatch"), std::string::npos) << pulled;
    EXPECT_EQ(count_lines(pulled.err), 1) << pulled;
    expect_empty_store(root);
}

TEST_F(PlainRegistryTest, WrongBytesAreRefusedAndNothingIsStored) {
    TcpProxy proxy(registry_->port());
    proxy.corrupt_blob(layer_);
    fs::path root = empty_root("pulled");
    CommandResult pulled = berth(root, {"pull", proxy.host() + "/test/busybox:1"});
    EXPECT_EQ(pulled.exit_code, 1);
    EXPECT_NE(pulled.err.find("does not match its digest"), std::string::npos) << pulled;
    EXPECT_EQ(count_lines(pulled.err), 1) << pulled;
    expect_empty_store(root);
}

TEST_F(PlainRegistryTest, ConcurrentPullsOfImagesSharingALayerFetchItOnce) {
    derived_image("test/labelled", "1", [](json& config) {
        config["config"]["Labels"] = {{"berth.test", "yes"}};
    });
    TcpProxy proxy(registry_->port());
    fs::path root = empty_root("shared");
    ASSERT_EQ(berth(root, {"images"}).exit_code, 0); // the store exists before both start
    CommandResult first, second;
    std::thread one([&] { first = berth(root, {"pull", proxy.host() + "/test/busybox:1"}); });
    std::thread two([&] { second = berth(root, {"pull", proxy.host() + "/test/labelled:1"}); });
    one.join();
    two.join();
    ASSERT_EQ(first.exit_code, 0) << first;
    ASSERT_EQ(second.exit_code, 0) << second;
    EXPECT_EQ(proxy.blob_gets(layer_), 1) << "the shared layer was fetched more than once";
    EXPECT_EQ(count_lines(berth(root, {"images", "-q"}).out), 2);
}

// run/create --pull and --platform against the registry: what is pulled
// when, and Docker's errors (exit 125, nothing created) for the rest.
TEST_F(PlainRegistryTest, RunPullPolicyAndPlatform) {
    std::string native = host_architecture();
    std::string foreign = native == "amd64" ? "arm64" : "amd64";
    push_two_platform_index("multi2", "foreign2", native, foreign);
    const std::string image = host() + "/test/busybox:multi2";
    fs::path root = empty_root("run");
    auto containers = [&] { return berth(root, {"ps", "-aq"}).out; };
    auto refused = [&](std::vector<std::string> args, const std::string& message) {
        CommandResult result = berth(root, args);
        EXPECT_EQ(result.exit_code, 125) << result;
        EXPECT_NE(result.err.find(message), std::string::npos) << result;
        EXPECT_EQ(count_lines(result.err), 1) << result;
        EXPECT_EQ(containers(), "");
    };

    refused({"create", "--pull", "never", image, "true"}, "No such image: " + image);
    refused({"create", "--pull", "sometimes", image, "true"},
            "invalid pull option: 'sometimes': must be one of \"always\", \"missing\" or "
            "\"never\"");
    refused({"create", "--platform", "linux/", image, "true"}, "platform");
    EXPECT_EQ(berth(root, {"image", "inspect", image}).exit_code, 1) << "nothing pulled";

    // Missing (the default): pulled once, the host's platform.
    CommandResult ran = berth(root, {"run", "--rm", "--network", "none", image, "echo", "hi"});
    ASSERT_EQ(ran.exit_code, 0) << ran;
    EXPECT_EQ(ran.out, "hi\n");
    EXPECT_NE(ran.err.find("Unable to find image"), std::string::npos) << ran;
    EXPECT_EQ(inspect(root, image)["Architecture"], native);
    CommandResult again = berth(root, {"run", "--rm", "--network", "none", image, "true"});
    EXPECT_EQ(again.err, "") << "present: no pull";

    // Always: pulled again, even when present.
    CommandResult always =
        berth(root, {"run", "--rm", "--network", "none", "--pull", "always", image, "true"});
    EXPECT_EQ(always.exit_code, 0) << always;
    EXPECT_NE(always.err.find("Image is up to date"), std::string::npos) << always;

    // Another platform: refused with --pull never, pulled with missing.
    refused({"create", "--pull", "never", "--platform", "linux/" + foreign, image, "true"},
            "image with reference " + image +
                " was found but does not match the specified platform: wanted linux/" + foreign +
                ", actual: linux/" + native);
    CommandResult created =
        berth(root, {"create", "--name", "other", "--platform", "linux/" + foreign, image, "true"});
    ASSERT_EQ(created.exit_code, 0) << created;
    EXPECT_EQ(inspect(root, image)["Architecture"], foreign);
    EXPECT_EQ(berth(root, {"rm", "other"}).exit_code, 0);
    // Pulled and not found there: the pull's progress, then its error.
    CommandResult absent = berth(root, {"create", "--platform", "linux/s390x", image, "true"});
    EXPECT_EQ(absent.exit_code, 125) << absent;
    EXPECT_NE(absent.err.find("no image for linux/s390x"), std::string::npos) << absent;
    EXPECT_EQ(containers(), "");
}

} // namespace
} // namespace registry_test
