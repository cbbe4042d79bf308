#include "berth/base/error.h"
#include "berth/oci/digest.h"
#include "berth/oci/image_spec.h"
#include "berth/oci/reference.h"

#include <gtest/gtest.h>

using namespace berth::oci;

TEST(Digest, Sha256OfKnownInput) {
    EXPECT_EQ(sha256_of("hello").str(),
              "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
}

TEST(Digest, RefusesOtherAlgorithmsAndBadHex) {
    EXPECT_THROW(Digest::parse("sha512:abcd"), berth::Error);
    EXPECT_THROW(Digest::parse("sha256:" + std::string(64, 'G')), berth::Error);
    EXPECT_THROW(Digest::parse("sha256:../../etc/passwd"), berth::Error);
    EXPECT_NO_THROW(Digest::parse("sha256:" + std::string(64, 'a')));
}

TEST(Digest, ChainIdsFollowTheImageSpec) {
    Digest a = sha256_of("a"), b = sha256_of("b"), c = sha256_of("c");
    auto chain = chain_ids({a, b, c});
    ASSERT_EQ(chain.size(), 3u);
    EXPECT_EQ(chain[0], a);
    EXPECT_EQ(chain[1], sha256_of(a.str() + " " + b.str()));
    EXPECT_EQ(chain[2], sha256_of(chain[1].str() + " " + c.str()));
}

TEST(Reference, NormalizesLikeDocker) {
    auto busybox = parse_reference("busybox");
    EXPECT_EQ(busybox.tagged_name(), "docker.io/library/busybox:latest");
    EXPECT_EQ(busybox.familiar_name(), "busybox");
    EXPECT_EQ(parse_reference("user/app:1.2").tagged_name(), "docker.io/user/app:1.2");
    auto local = parse_reference("localhost:5000/team/app:v1");
    EXPECT_EQ(local.domain, "localhost:5000");
    EXPECT_EQ(local.repository, "team/app");
    EXPECT_EQ(local.tag, "v1");
    auto pinned = parse_reference("busybox@sha256:" + std::string(64, 'b'));
    ASSERT_TRUE(pinned.digest.has_value());
    EXPECT_TRUE(pinned.tag.empty());
}

TEST(Reference, RefusesMalformedNames) {
    EXPECT_THROW(parse_reference(""), berth::Error);
    EXPECT_THROW(parse_reference("UPPER/case"), berth::Error);
    EXPECT_THROW(parse_reference("a:bad tag"), berth::Error);
    EXPECT_THROW(parse_reference("a@sha256:short"), berth::Error);
    EXPECT_THROW(parse_reference("../etc"), berth::Error);
}

TEST(ImageSpec, ManifestRoundTripsAndRejectsBadDigests) {
    Manifest manifest;
    manifest.media_type = media_type::oci_manifest;
    manifest.config = {media_type::oci_config, sha256_of("config"), 6, {}, {}};
    manifest.layers.push_back({media_type::oci_layer_gzip, sha256_of("layer"), 5, {}, {}});
    Manifest parsed = parse_manifest(manifest_to_json(manifest));
    EXPECT_EQ(parsed.config.digest, manifest.config.digest);
    ASSERT_EQ(parsed.layers.size(), 1u);
    EXPECT_EQ(parsed.layers[0].media_type, media_type::oci_layer_gzip);
    EXPECT_THROW(
        parse_manifest(
            R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"md5:1","size":1},"layers":[]})"),
        berth::Error);
    EXPECT_THROW(parse_manifest("not json"), berth::Error);
}

TEST(ImageSpec, ConfigKeepsRuntimeFields) {
    ImageConfig config;
    config.architecture = "amd64";
    config.os = "linux";
    config.config.cmd = {"sh"};
    config.config.env = {"PATH=/bin"};
    config.config.exposed_ports = {"80/tcp"};
    config.diff_ids = {sha256_of("x")};
    ImageConfig parsed = parse_image_config(image_config_to_json(config));
    EXPECT_EQ(parsed.config.cmd, config.config.cmd);
    EXPECT_EQ(parsed.config.env, config.config.env);
    EXPECT_EQ(parsed.config.exposed_ports, config.config.exposed_ports);
    EXPECT_EQ(parsed.diff_ids, config.diff_ids);
}

TEST(ImageSpec, LayerMediaTypes) {
    EXPECT_EQ(layer_compression(media_type::docker_layer_gzip), Compression::gzip);
    EXPECT_EQ(layer_compression(media_type::oci_layer_zstd), Compression::zstd);
    EXPECT_THROW(layer_compression("application/vnd.oci.image.layer.v1.tar+encrypted"),
                 berth::Error);
}
