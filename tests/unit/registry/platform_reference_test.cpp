// References as docker writes them, and the platform chosen from an index.
#include "berth/base/error.h"
#include "berth/oci/platform.h"
#include "berth/oci/reference.h"
#include "berth/registry/client.h"

#include <gtest/gtest.h>

using namespace berth::oci;

TEST(RegistryReference, DockerHubDefaults) {
    auto busybox = parse_reference("busybox");
    EXPECT_EQ(busybox.domain, "docker.io");
    EXPECT_EQ(busybox.repository, "library/busybox");
    EXPECT_EQ(busybox.tag, "latest");
    auto user = parse_reference("someone/app:1.0");
    EXPECT_EQ(user.domain, "docker.io");
    EXPECT_EQ(user.repository, "someone/app");
    EXPECT_EQ(parse_reference("docker.io/library/busybox:1.36").repository, "library/busybox");
}

TEST(RegistryReference, HostPortAndDigest) {
    auto local = parse_reference("localhost:5000/team/app:v2");
    EXPECT_EQ(local.domain, "localhost:5000");
    EXPECT_EQ(local.repository, "team/app");
    EXPECT_EQ(local.tag, "v2");
    std::string hex(64, 'a');
    auto pinned = parse_reference("127.0.0.1:5000/app@sha256:" + hex);
    EXPECT_EQ(pinned.domain, "127.0.0.1:5000");
    EXPECT_TRUE(pinned.tag.empty());
    EXPECT_EQ(pinned.digest->hex(), hex);
    auto both = parse_reference("busybox:1.36@sha256:" + hex);
    EXPECT_EQ(both.tag, "1.36");
    EXPECT_TRUE(both.digest);
    EXPECT_THROW(parse_reference("localhost:5000/App:1"), berth::Error);
    EXPECT_THROW(parse_reference("app@sha256:short"), berth::Error);
}

TEST(RegistryPlatform, ParsedAsDockerWritesThem) {
    auto arm = parse_platform("linux/arm/v7");
    EXPECT_EQ(arm.os, "linux");
    EXPECT_EQ(arm.architecture, "arm");
    EXPECT_EQ(arm.variant, "v7");
    EXPECT_EQ(parse_platform("arm64").os, "linux");
    EXPECT_EQ(platform_string(parse_platform("linux/amd64")), "linux/amd64");
    for (const char* bad : {"", "linux/", "a/b/c/d", "Linux/AMD64", "linux/amd64 "})
        EXPECT_THROW(parse_platform(bad), berth::Error) << bad;
}

namespace {
Descriptor entry(const std::string& arch, const std::string& variant, char digit) {
    Descriptor d;
    d.media_type = media_type::oci_manifest;
    d.digest = Digest::from_sha256_hex(std::string(64, digit));
    d.platform = Platform{arch, "linux", variant};
    return d;
}
} // namespace

TEST(RegistryPlatform, ChoiceFromAnIndex) {
    Index index;
    Descriptor attestation = entry("unknown", "", '0');
    attestation.platform->os = "unknown";
    index.manifests = {attestation, entry("arm", "v6", '1'), entry("arm", "v7", '2'),
                       entry("arm64", "v8", '3'), entry("amd64", "", '4')};
    EXPECT_EQ(choose_platform(index, parse_platform("linux/amd64"))->digest.hex()[0], '4');
    EXPECT_EQ(choose_platform(index, parse_platform("linux/arm/v7"))->digest.hex()[0], '2');
    EXPECT_EQ(choose_platform(index, parse_platform("linux/arm64"))->digest.hex()[0],
              '3'); // v8 is arm64's default
    EXPECT_EQ(choose_platform(index, parse_platform("linux/arm"))->digest.hex()[0],
              '1'); // first of several variants
    EXPECT_FALSE(choose_platform(index, parse_platform("linux/s390x")));
    EXPECT_FALSE(choose_platform(index, parse_platform("windows/amd64")));
}

TEST(RegistryPlainHttp, OnlyWhereAllowed) {
    berth::registry::ClientOptions options;
    EXPECT_TRUE(berth::registry::plain_http_allowed("localhost:5000", options));
    EXPECT_TRUE(berth::registry::plain_http_allowed("127.0.0.1:5000", options));
    EXPECT_FALSE(berth::registry::plain_http_allowed("registry.example", options));
    options.insecure_registries = {"registry.example:5000"};
    EXPECT_TRUE(berth::registry::plain_http_allowed("registry.example:5000", options));
    EXPECT_FALSE(berth::registry::plain_http_allowed("registry.example:6000", options));
    options.tls_verify = false;
    EXPECT_TRUE(berth::registry::plain_http_allowed("anything.example", options));
}
