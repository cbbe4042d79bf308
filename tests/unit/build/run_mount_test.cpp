#include "berth/base/error.h"
#include "berth/build/run_mount.h"

#include <gtest/gtest.h>

namespace {

using namespace berth::build;

TEST(RunMount, DefaultsFollowBuildKit) {
    RunMount bind = parse_run_mount("target=/src");
    EXPECT_EQ(bind.type, RunMount::Type::bind);
    EXPECT_TRUE(bind.read_only);
    EXPECT_FALSE(parse_run_mount("type=bind,dst=/src,rw").read_only);

    RunMount cache = parse_run_mount("type=cache,target=/root/.cache");
    EXPECT_EQ(cache.id, "/root/.cache");
    EXPECT_FALSE(cache.read_only);
    EXPECT_EQ(cache.sharing, "shared");

    RunMount secret = parse_run_mount("type=secret,id=token");
    EXPECT_EQ(secret.target, "/run/secrets/token");
    EXPECT_TRUE(secret.read_only);
    EXPECT_EQ(parse_run_mount("type=secret,target=/etc/pw").id, "pw");
}

TEST(RunMount, OptionsAreParsed) {
    RunMount cache = parse_run_mount("type=cache,id=apt,target=/var/cache/apt,sharing=locked,"
                                     "uid=1000,gid=100,mode=0750");
    EXPECT_EQ(cache.id, "apt");
    EXPECT_EQ(cache.sharing, "locked");
    EXPECT_EQ(cache.uid, 1000u);
    EXPECT_EQ(cache.gid, 100u);
    EXPECT_EQ(cache.mode, 0750u);
    EXPECT_EQ(parse_run_mount("type=tmpfs,target=/t,size=64m").size, 64 * 1024 * 1024);
    RunMount from = parse_run_mount("type=bind,from=builder,source=/out,target=/in");
    EXPECT_EQ(from.from, "builder");
    EXPECT_EQ(from.source, "/out");
}

TEST(RunMount, BadInputIsRefused) {
    for (const char* text :
         {"type=nfs,target=/x", "type=cache", "type=cache,target=/x,sharing=maybe",
          "type=cache,target=/x,mode=9", "type=bind,target=/x,ro=perhaps",
          "type=tmpfs,target=/t,id=a", "type=tmpfs,target=/t,size=12q", "type=secret",
          "type=secret,id=a,rw", "target=/x,bogus=1", "type=ssh", "type=cache,target=/x,from=stage",
          "=x,target=/y"}) {
        EXPECT_THROW(parse_run_mount(text), berth::Error) << text;
    }
}

TEST(SecretFlag, IdAndSource) {
    SecretSource secret = parse_secret_flag("id=tok,src=/tmp/token");
    EXPECT_EQ(secret.id, "tok");
    EXPECT_EQ(secret.path, "/tmp/token");
    EXPECT_EQ(parse_secret_flag("source=/run/key.pem").id, "key.pem");
    EXPECT_THROW(parse_secret_flag("id=tok"), berth::Error);
    EXPECT_THROW(parse_secret_flag("id=tok,env=TOKEN"), berth::Error);
    EXPECT_THROW(parse_secret_flag("id=tok,src=/x,type=ssh"), berth::Error);
}

} // namespace
