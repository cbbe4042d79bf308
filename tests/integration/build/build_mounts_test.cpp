// `berth build` RUN --mount: cache directories that outlive a build, binds
// of the context and of other stages, tmpfs, and secrets that reach no
// layer; each checked against what lands in the image.
#include "build_test_fixture.hpp"

namespace {

using namespace berth_build_test;

// Every blob of the store that holds `needle`.
std::vector<std::string> blobs_holding(const fs::path& root, const std::string& needle) {
    std::vector<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(root / "blobs")) {
        if (!entry.is_regular_file()) continue;
        if (read_text(entry.path()).find(needle) != std::string::npos)
            found.push_back(entry.path().string());
    }
    return found;
}

TEST_F(BuildTest, CacheMountSurvivesBetweenBuildsAndStaysOutOfTheImage) {
    dockerfile("FROM busybox\n"
               "ARG ROUND\n"
               "RUN --mount=type=cache,target=/var/cache/app,uid=7,mode=0750 "
               "echo \"round $ROUND\" >> /var/cache/app/log && cat /var/cache/app/log && "
               "stat -c 'owner %u mode %a' /var/cache/app\n");
    CommandResult first = build({"--build-arg", "ROUND=1", "-t", "cachemount:1"});
    ASSERT_EQ(first.exit_code, 0) << first;
    EXPECT_NE(first.out.find("round 1\nowner 7 mode 750\n"), std::string::npos) << first.out;
    CommandResult second = build({"--build-arg", "ROUND=2", "-t", "cachemount:2"});
    ASSERT_EQ(second.exit_code, 0) << second;
    EXPECT_NE(second.out.find("round 1\nround 2\n"), std::string::npos)
        << "the cache directory was not kept between builds: " << second.out;
    // Neither the cache's content nor its mount point is in the image.
    CommandResult listed = run({"cachemount:2", "sh", "-c", "ls -d /var/cache/app /var/cache"});
    EXPECT_NE(listed.exit_code, 0) << listed;
    EXPECT_TRUE(blobs_holding(root(), "round 1").empty());

    // sharing=locked and private both work; private gets its own when busy.
    dockerfile("FROM busybox\n"
               "RUN --mount=type=cache,id=shared-one,target=/c,sharing=locked "
               "--mount=type=cache,id=p,target=/p,sharing=private echo x > /c/f && ls /c /p\n");
    CommandResult locked = build({"-t", "cachemount:3"});
    EXPECT_EQ(locked.exit_code, 0) << locked;
    dockerfile("FROM busybox\nRUN --mount=type=cache,target=/c,sharing=sometimes true\n");
    CommandResult bad = build({});
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE(bad.err.find("Dockerfile:2: RUN: --mount=type=cache,target=/c,sharing=sometimes: "
                           "sharing=sometimes: use shared, private or locked"),
              std::string::npos)
        << bad.err;
}

TEST_F(BuildTest, BindMountIsReadInRunButNotInTheImage) {
    write_text(context_ / "src/input.txt", "bound content\n");
    write_text(context_ / "src/ignored.txt", "left out\n");
    write_text(context_ / ".dockerignore", "src/ignored.txt\n");
    dockerfile("FROM busybox AS tools\n"
               "RUN echo from-stage > /tool.txt\n"
               "FROM busybox\n"
               "RUN --mount=type=bind,source=src,target=/in "
               "--mount=type=bind,from=tools,source=/tool.txt,target=/tool.txt "
               "cat /in/input.txt /tool.txt > /out.txt && ! touch /in/ro-check && "
               "! test -e /in/ignored.txt\n"
               "RUN --mount=type=bind,source=src,target=/in,rw "
               "echo scribble > /in/input.txt && cat /in/input.txt\n");
    CommandResult built = build({"-t", "bindmount:1"});
    ASSERT_EQ(built.exit_code, 0) << built;
    EXPECT_EQ(run({"bindmount:1", "cat", "/out.txt"}).out, "bound content\nfrom-stage\n");
    EXPECT_NE(run({"bindmount:1", "ls", "/in"}).exit_code, 0) << "the mount point is in the image";
    EXPECT_NE(run({"bindmount:1", "ls", "/tool.txt"}).exit_code, 0);
    // rw writes went to a copy: the context is unchanged.
    EXPECT_EQ(read_text(context_ / "src/input.txt"), "bound content\n");

    // What the bind brings is part of the step's key.
    CommandResult again = build({"-t", "bindmount:1"});
    EXPECT_EQ(count_of(again.out, "Using cache"), 3) << again.out;
    write_text(context_ / "src/input.txt", "changed\n");
    CommandResult changed = build({"-t", "bindmount:2"});
    ASSERT_EQ(changed.exit_code, 0) << changed;
    EXPECT_EQ(count_of(changed.out, "Using cache"), 1) << changed.out;
    EXPECT_EQ(run({"bindmount:2", "cat", "/out.txt"}).out, "changed\nfrom-stage\n");

    // A bind cannot reach out of the context.
    dockerfile("FROM busybox\nRUN --mount=type=bind,source=../..,target=/x true\n");
    CommandResult outside = build({});
    EXPECT_NE(outside.exit_code, 0);
    EXPECT_NE(outside.err.find("Dockerfile:2:"), std::string::npos) << outside.err;
    EXPECT_NE(outside.err.find("outside the build context"), std::string::npos) << outside.err;
}

TEST_F(BuildTest, TmpfsMountIsEmptyAndGone) {
    dockerfile("FROM busybox\n"
               "RUN --mount=type=tmpfs,target=/scratch,size=2m "
               "grep ' /scratch tmpfs ' /proc/mounts && echo x > /scratch/y\n");
    CommandResult built = build({"-t", "tmpfsmount:1"});
    ASSERT_EQ(built.exit_code, 0) << built;
    EXPECT_NE(built.out.find("size=2048k"), std::string::npos) << built.out;
    EXPECT_NE(run({"tmpfsmount:1", "ls", "/scratch"}).exit_code, 0);
}

TEST_F(BuildTest, SecretNeverLandsInALayer) {
    const std::string secret = "s3cr3t-" + std::to_string(::getpid()) + "-value";
    write_text(context_ / "../secret-token", secret + "\n");
    std::string given = "id=token,src=" + (context_ / "../secret-token").string();
    dockerfile("FROM busybox\n"
               "RUN --mount=type=secret,id=token cat /run/secrets/token > /dev/null && "
               "wc -c < /run/secrets/token > /length\n"
               "RUN --mount=type=secret,id=token,target=/etc/token,mode=0400,uid=9 "
               "stat -c '%u %a' /etc/token > /owner && sh -c 'cat /etc/token; true' | "
               "tr a-z A-Z > /upper.txt\n"
               "RUN --mount=type=secret,id=absent true\n");
    CommandResult built = build({"--secret", given, "-t", "secret:1"});
    ASSERT_EQ(built.exit_code, 0) << built;
    EXPECT_EQ(built.out.find(secret), std::string::npos);
    EXPECT_EQ(trim(run({"secret:1", "cat", "/length"}).out), std::to_string(secret.size() + 1));
    EXPECT_EQ(run({"secret:1", "cat", "/owner"}).out, "9 400\n");
    EXPECT_NE(run({"secret:1", "ls", "/run/secrets/token"}).exit_code, 0);
    EXPECT_NE(run({"secret:1", "ls", "/etc/token"}).exit_code, 0);
    EXPECT_EQ(blobs_holding(root(), secret), std::vector<std::string>{});
    EXPECT_EQ(read_text(fs::path("/proc/self/mountinfo")).find("secret-token"), std::string::npos);

    dockerfile("FROM busybox\nRUN --mount=type=secret,id=needed,required true\n");
    CommandResult missing = build({});
    EXPECT_NE(missing.exit_code, 0);
    EXPECT_NE(missing.err.find("Dockerfile:2: RUN: secret needed is required"), std::string::npos)
        << missing.err;
    EXPECT_NE(berth({"build", "--secret", "id=x", context_.string()}).exit_code, 0);
}

} // namespace
