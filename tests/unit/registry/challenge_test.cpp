#include "berth/base/error.h"
#include "berth/registry/challenge.h"

#include <gtest/gtest.h>

using berth::registry::parse_www_authenticate;

TEST(Challenge, BearerWithRealmServiceAndScope) {
    auto challenges = parse_www_authenticate(
        R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
    ASSERT_EQ(challenges.size(), 1u);
    EXPECT_EQ(challenges[0].scheme, "bearer");
    EXPECT_EQ(challenges[0].parameters.at("realm"), "https://auth.docker.io/token");
    EXPECT_EQ(challenges[0].parameters.at("service"), "registry.docker.io");
    EXPECT_EQ(challenges[0].parameters.at("scope"), "repository:library/busybox:pull");
}

TEST(Challenge, SchemeAndNamesAreCaseInsensitiveAndSpacesAllowed) {
    auto challenges = parse_www_authenticate(R"(BASIC  Realm = "Registry Realm" , charset=UTF-8)");
    ASSERT_EQ(challenges.size(), 1u);
    EXPECT_EQ(challenges[0].scheme, "basic");
    EXPECT_EQ(challenges[0].parameters.at("realm"), "Registry Realm");
    EXPECT_EQ(challenges[0].parameters.at("charset"), "UTF-8");
}

TEST(Challenge, QuotedStringsKeepCommasAndEscapes) {
    auto challenges = parse_www_authenticate(
        R"(Bearer realm="https://a.example/t?x=1,y=2",scope="repository:a:pull,push",error="say \"hi\"")");
    ASSERT_EQ(challenges.size(), 1u);
    EXPECT_EQ(challenges[0].parameters.at("realm"), "https://a.example/t?x=1,y=2");
    EXPECT_EQ(challenges[0].parameters.at("scope"), "repository:a:pull,push");
    EXPECT_EQ(challenges[0].parameters.at("error"), "say \"hi\"");
}

TEST(Challenge, SeveralChallengesInOneHeader) {
    auto challenges = parse_www_authenticate(
        R"(Basic realm="r1", Bearer realm="https://t.example/token",service=s)");
    ASSERT_EQ(challenges.size(), 2u);
    EXPECT_EQ(challenges[0].scheme, "basic");
    EXPECT_EQ(challenges[0].parameters.at("realm"), "r1");
    EXPECT_EQ(challenges[1].scheme, "bearer");
    EXPECT_EQ(challenges[1].parameters.at("service"), "s");
}

TEST(Challenge, SchemeWithoutParameters) {
    auto challenges = parse_www_authenticate("Negotiate");
    ASSERT_EQ(challenges.size(), 1u);
    EXPECT_EQ(challenges[0].scheme, "negotiate");
    EXPECT_TRUE(challenges[0].parameters.empty());
}

TEST(Challenge, MalformedHeadersAreErrors) {
    for (const char* text :
         {"", "   ", R"(Bearer realm="unterminated)", R"(Bearer realm="a" junk="b)",
          "Bearer realm=\"a\" x", "Bearer =value", "\"quoted\"", "Bearer realm=\"a\x01\""}) {
        EXPECT_THROW(parse_www_authenticate(text), berth::Error) << text;
    }
    EXPECT_THROW(parse_www_authenticate(std::string(9000, 'a')), berth::Error);
}
