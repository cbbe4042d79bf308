#include "berth/base/error.h"
#include "berth/engine/user_lookup.h"

#include <gtest/gtest.h>

using namespace berth;
using namespace berth::engine;

namespace {
const char* passwd = "root:x:0:0:root:/root:/bin/sh\n"
                     "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
                     "app:x:1000:1000::/home/app:/bin/sh\n";
const char* group = "root:x:0:\nwheel:x:10:app,other\nnobody:x:65534:\napp:x:1000:\n";
} // namespace

TEST(UserLookup, EmptyIsRoot) {
    auto user = resolve_user("", passwd, group);
    EXPECT_EQ(user.uid, 0u);
    EXPECT_EQ(user.gid, 0u);
    EXPECT_EQ(user.home, "/root");
    // The primary group is always a supplementary one (docker's groups=0(root)).
    EXPECT_EQ(user.additional_gids, (std::vector<std::uint32_t>{0}));
}

TEST(UserLookup, NamesAndSupplementaryGroups) {
    auto user = resolve_user("app", passwd, group);
    EXPECT_EQ(user.uid, 1000u);
    EXPECT_EQ(user.gid, 1000u);
    EXPECT_EQ(user.home, "/home/app");
    EXPECT_EQ(user.additional_gids, (std::vector<std::uint32_t>{1000, 10}));
}

TEST(UserLookup, NumbersNeedNoEntry) {
    auto user = resolve_user("4242:77", passwd, group);
    EXPECT_EQ(user.uid, 4242u);
    EXPECT_EQ(user.gid, 77u);
    EXPECT_EQ(user.home, "/");
    EXPECT_EQ(resolve_user("65534", passwd, group).gid, 65534u);
}

TEST(UserLookup, GroupByName) {
    auto user = resolve_user("nobody:wheel", passwd, group);
    EXPECT_EQ(user.uid, 65534u);
    EXPECT_EQ(user.gid, 10u);
    EXPECT_EQ(user.additional_gids, (std::vector<std::uint32_t>{10})) << "forced: no memberships";
}

TEST(UserLookup, UnknownNamesFail) {
    EXPECT_THROW(resolve_user("ghost", passwd, group), Error);
    EXPECT_THROW(resolve_user("app:ghosts", passwd, group), Error);
    EXPECT_THROW(resolve_user("app", "", ""), Error);
}
