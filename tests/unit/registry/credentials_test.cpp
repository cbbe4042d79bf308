#include "berth/base/error.h"
#include "berth/registry/credentials.h"
#include "berth_test/temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

using namespace berth::registry;

TEST(Credentials, Base64RoundTripsEveryLength) {
    EXPECT_EQ(base64_encode("user:pass"), "dXNlcjpwYXNz");
    for (std::string text : {"", "a", "ab", "abc", "abcd", "\xff\x00\x10 binary"})
        EXPECT_EQ(base64_decode(base64_encode(text)), text);
    EXPECT_THROW(base64_decode("not base64!"), berth::Error);
}

TEST(Credentials, DockerHubHasDockersKey) {
    EXPECT_EQ(auth_key("docker.io"), "https://index.docker.io/v1/");
    EXPECT_EQ(auth_key("index.docker.io"), "https://index.docker.io/v1/");
    EXPECT_EQ(auth_key("localhost:5000"), "localhost:5000");
    EXPECT_EQ(auth_key("https://ghcr.io/v2/"), "ghcr.io");
}

TEST(Credentials, FoundUnderAnySpellingOfTheRegistry) {
    std::string file = R"({"auths": {
        "https://index.docker.io/v1/": {"auth": "aHViOmh1YnBhc3M="},
        "https://registry.example:5000": {"auth": "dTpwOng="},
        "old.example": {"username": "old", "password": "style"},
        "empty.example": {}
    }, "credsStore": "", "HttpHeaders": {"X": "y"}})";
    auto hub = credentials_in(file, "docker.io");
    ASSERT_TRUE(hub);
    EXPECT_EQ(hub->username, "hub");
    EXPECT_EQ(hub->password, "hubpass");
    auto example = credentials_in(file, "registry.example:5000");
    ASSERT_TRUE(example);
    EXPECT_EQ(example->username, "u");
    EXPECT_EQ(example->password, "p:x"); // only the first colon separates
    EXPECT_EQ(credentials_in(file, "old.example")->password, "style");
    EXPECT_FALSE(credentials_in(file, "empty.example"));
    EXPECT_FALSE(credentials_in(file, "registry.example")); // another port is another registry
    EXPECT_FALSE(credentials_in("", "docker.io"));
}

TEST(Credentials, MalformedFilesAreErrors) {
    EXPECT_THROW(credentials_in("{not json", "x"), berth::Error);
    EXPECT_THROW(credentials_in("[1,2]", "x"), berth::Error);
    EXPECT_THROW(credentials_in(R"({"auths":{"x":{"auth":"bm9jb2xvbg=="}}})", "x"),
                 berth::Error); // "nocolon"
}

TEST(Credentials, WritingKeepsTheRestOfTheFile) {
    std::string file =
        R"({"auths":{"a.example":{"auth":"YTpi"},"https://b.example":{"auth":"Yzpk"}},"credHelpers":{"z":"helper"}})";
    std::string written = with_credentials(file, "b.example", Credentials{"new", "pw"});
    auto document = nlohmann::json::parse(written);
    EXPECT_EQ(document["credHelpers"]["z"], "helper");
    EXPECT_EQ(document["auths"]["a.example"]["auth"], "YTpi");
    EXPECT_FALSE(document["auths"].contains("https://b.example"));
    EXPECT_EQ(credentials_in(written, "b.example")->username, "new");
    std::string removed = with_credentials(written, "b.example", std::nullopt);
    EXPECT_FALSE(credentials_in(removed, "b.example"));
    EXPECT_TRUE(credentials_in(removed, "a.example"));
}

TEST(Credentials, SearchOrderAndLogin) {
    berth_test::TempDir dir("berth-credentials-test");
    std::string docker = (dir.path() / "docker").string();
    std::string runtime = (dir.path() / "run").string();
    ::setenv("DOCKER_CONFIG", docker.c_str(), 1);
    ::setenv("XDG_RUNTIME_DIR", runtime.c_str(), 1);
    ::unsetenv("REGISTRY_AUTH_FILE");
    EXPECT_EQ(login_file(), docker + "/config.json");
    std::filesystem::create_directories(runtime + "/containers");
    std::ofstream(runtime + "/containers/auth.json")
        << R"({"auths":{"podman.example":{"auth":"cG9kOm1hbg=="}}})";
    EXPECT_EQ(find_credentials("podman.example")->username, "pod");
    EXPECT_FALSE(find_credentials("docker.example"));

    EXPECT_TRUE(store_credentials("docker.example", Credentials{"me", "secret"}));
    EXPECT_EQ(find_credentials("docker.example")->password, "secret");
    auto mode = std::filesystem::status(docker + "/config.json").permissions();
    EXPECT_EQ(mode & std::filesystem::perms::group_read, std::filesystem::perms::none);
    EXPECT_TRUE(store_credentials("docker.example", std::nullopt));
    EXPECT_FALSE(store_credentials("docker.example", std::nullopt));
    EXPECT_FALSE(find_credentials("docker.example"));
    ::unsetenv("DOCKER_CONFIG");
    ::unsetenv("XDG_RUNTIME_DIR");
}

TEST(Credentials, HelpersNamedByTheFile) {
    std::string file =
        R"({"credsStore":"desktop","credHelpers":{"gcr.io":"gcloud","https://ecr.example":"ecr"}})";
    EXPECT_EQ(credential_helper_in(file, "gcr.io"), "gcloud");
    EXPECT_EQ(credential_helper_in(file, "ecr.example"), "ecr");
    EXPECT_EQ(credential_helper_in(file, "docker.io"), "desktop");
    EXPECT_FALSE(credential_helper_in(R"({"auths":{}})", "docker.io"));
}

TEST(Credentials, AHelperProgramIsAskedWithTheServerOnStdin) {
    berth_test::TempDir dir("berth-credential-helper");
    std::string helper = (dir.path() / "docker-credential-berthtest").string();
    // Answers for one server only, as real helpers do.
    std::ofstream(helper)
        << "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread server\n"
           "[ \"$server\" = helped.example ] || { echo 'credentials not found' >&2; exit 1; }\n"
           "echo '{\"ServerURL\":\"helped.example\",\"Username\":\"hu\",\"Secret\":\"hs\"}'\n";
    std::filesystem::permissions(helper, std::filesystem::perms::owner_all);
    std::string path = dir.path().string() + ":" + std::getenv("PATH");
    std::string saved = std::getenv("PATH");
    ::setenv("PATH", path.c_str(), 1);
    auto found = credentials_from_helper("berthtest", "helped.example");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->username, "hu");
    EXPECT_EQ(found->password, "hs");
    EXPECT_FALSE(credentials_from_helper("berthtest", "other.example"));
    EXPECT_FALSE(credentials_from_helper("not-installed-anywhere", "helped.example"));
    EXPECT_THROW(credentials_from_helper("../evil", "helped.example"), berth::Error);

    std::string auth = (dir.path() / "auth.json").string();
    std::ofstream(auth)
        << R"({"credsStore":"berthtest","auths":{"other.example":{"auth":"bzpw"}}})";
    EXPECT_EQ(find_credentials("helped.example", auth)->username, "hu");
    EXPECT_EQ(find_credentials("other.example", auth)->username, "o"); // the helper has none: auths
    ::setenv("PATH", saved.c_str(), 1);
}
