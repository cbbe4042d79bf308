// `berth build` end to end: Dockerfiles built on a busybox image in a
// private root, the images run with `berth run`, and what must be refused
// refused. Each test writes its own context directory.
#include "build_test_fixture.hpp"

namespace {

using namespace berth_build_test;

TEST_F(BuildTest, MultiStageBuildsOnlyWhatTheTargetNeeds) {
    write_text(context_ / "hello.txt", "hello\n");
    dockerfile("FROM busybox AS unused\n"
               "RUN exit 9\n"
               "FROM busybox AS base\n"
               "WORKDIR /src\n"
               "COPY hello.txt .\n"
               "RUN cat hello.txt hello.txt > twice.txt\n"
               "FROM busybox AS final\n"
               "COPY --from=base /src/twice.txt /out/\n"
               "CMD [\"cat\", \"/out/twice.txt\"]\n");
    CommandResult built = build({"-t", "multi:1"});
    ASSERT_EQ(built.exit_code, 0) << built;
    EXPECT_EQ(built.out.find("RUN exit 9"), std::string::npos) << "the unused stage was built";
    EXPECT_NE(built.out.find("Successfully tagged multi:1"), std::string::npos) << built;
    CommandResult ran = run({"multi:1"});
    EXPECT_EQ(ran.exit_code, 0) << ran;
    EXPECT_EQ(ran.out, "hello\nhello\n");
    // The base stage's files are not in the final image.
    EXPECT_NE(run({"multi:1", "ls", "/src"}).exit_code, 0);

    CommandResult target = build({"--target", "base", "-t", "multi:base"});
    ASSERT_EQ(target.exit_code, 0) << target;
    EXPECT_EQ(run({"multi:base", "cat", "/src/twice.txt"}).out, "hello\nhello\n");
    EXPECT_NE(build({"--target", "nope"}).exit_code, 0);
}

TEST_F(BuildTest, CacheHitsUntilAFileChanges) {
    write_text(context_ / "a.txt", "one\n");
    write_text(context_ / "b.txt", "two\n");
    dockerfile("FROM busybox\n"
               "COPY a.txt /a.txt\n"
               "RUN echo ran-first-run && cat /a.txt > /first\n"
               "COPY b.txt /b.txt\n"
               "RUN echo ran-second-run && cat /b.txt > /second\n"
               "CMD [\"cat\", \"/first\", \"/second\"]\n");
    CommandResult cold = build({"-t", "cache:1"});
    ASSERT_EQ(cold.exit_code, 0) << cold;
    EXPECT_EQ(count_of(cold.out, "Using cache"), 0) << cold;
    EXPECT_NE(cold.out.find("\nran-second-run\n"), std::string::npos);
    std::string first_id = image_id("cache:1");

    CommandResult warm = build({"-t", "cache:1"});
    ASSERT_EQ(warm.exit_code, 0) << warm;
    EXPECT_EQ(count_of(warm.out, "Using cache"), 5) << warm.out;
    EXPECT_EQ(warm.out.find("\nran-first-run\n"), std::string::npos) << "a cached RUN ran again";
    EXPECT_EQ(image_id("cache:1"), first_id) << "a fully cached build gives the same image";
    // The steps' images are kept for the cache, but listed only with --all.
    CommandResult listed = berth({"images", "--no-trunc", "-q"});
    CommandResult all = berth({"images", "-a", "--no-trunc", "-q"});
    EXPECT_NE(listed.out.find(first_id), std::string::npos) << listed.out;
    EXPECT_LT(count_of(listed.out, "\n") + 3, count_of(all.out, "\n")) << all.out;

    write_text(context_ / "b.txt", "changed\n");
    CommandResult changed = build({"-t", "cache:2"});
    ASSERT_EQ(changed.exit_code, 0) << changed;
    EXPECT_EQ(count_of(changed.out, "Using cache"), 2) << changed.out;
    EXPECT_EQ(changed.out.find("\nran-first-run\n"), std::string::npos);
    EXPECT_NE(changed.out.find("\nran-second-run\n"), std::string::npos);
    EXPECT_EQ(run({"cache:2"}).out, "one\nchanged\n");

    CommandResult uncached = build({"--no-cache", "-t", "cache:3"});
    ASSERT_EQ(uncached.exit_code, 0) << uncached;
    EXPECT_EQ(count_of(uncached.out, "Using cache"), 0);

    // A different build argument is a different step.
    dockerfile("FROM busybox\nARG WHO=nobody\nRUN echo \"hi $WHO\" > /who\n");
    ASSERT_EQ(build({"-t", "args:1"}).exit_code, 0);
    CommandResult other = build({"--build-arg", "WHO=alice", "-t", "args:2"});
    ASSERT_EQ(other.exit_code, 0) << other;
    EXPECT_EQ(count_of(other.out, "Using cache"), 0) << other.out;
    EXPECT_EQ(run({"args:2", "cat", "/who"}).out, "hi alice\n");
    EXPECT_EQ(run({"args:1", "cat", "/who"}).out, "hi nobody\n");
}

TEST_F(BuildTest, DockerignoreKeepsFilesOut) {
    write_text(context_ / ".dockerignore", "*.log\nsecret/\n!keep.log\n");
    write_text(context_ / "app.txt", "app\n");
    write_text(context_ / "debug.log", "noise\n");
    write_text(context_ / "keep.log", "kept\n");
    write_text(context_ / "secret/key", "hidden\n");
    dockerfile("FROM busybox\nCOPY . /ctx/\n");
    CommandResult built = build({"-t", "ignore:1"});
    ASSERT_EQ(built.exit_code, 0) << built;
    CommandResult listed = run({"ignore:1", "sh", "-c", "cd /ctx && ls -A | sort"});
    EXPECT_EQ(listed.out, ".dockerignore\nDockerfile\napp.txt\nkeep.log\n") << listed;
    // Naming an ignored file is as if it were not there.
    dockerfile("FROM busybox\nCOPY debug.log /\n");
    CommandResult refused = build({});
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.err.find("Dockerfile:2"), std::string::npos) << refused.err;
}

TEST_F(BuildTest, AddUnpacksLocalTarsAndCopyDoesNot) {
    fs::create_directories(context_ / "tree/sub");
    write_text(context_ / "tree/sub/file.txt", "from the tar\n");
    CommandResult tarred = run_command({"tar", "-czf", (context_ / "bundle.tar.gz").string(), "-C",
                                        (context_ / "tree").string(), "."});
    ASSERT_EQ(tarred.exit_code, 0) << tarred;
    fs::remove_all(context_ / "tree");
    dockerfile("FROM busybox\nADD bundle.tar.gz /unpacked/\nCOPY bundle.tar.gz /copied/\n");
    CommandResult built = build({"-t", "add:1"});
    ASSERT_EQ(built.exit_code, 0) << built;
    EXPECT_EQ(run({"add:1", "cat", "/unpacked/sub/file.txt"}).out, "from the tar\n");
    EXPECT_EQ(run({"add:1", "ls", "/copied"}).out, "bundle.tar.gz\n");
}

TEST_F(BuildTest, UserWorkdirEnvAndCmdReachBerthRun) {
    dockerfile("FROM busybox\n"
               "ENV GREETING=\"hello there\" TARGET=${UNSET:-world}\n"
               "WORKDIR /srv\n"
               "WORKDIR data\n"
               "RUN touch made-here && chown nobody /srv/data\n"
               "USER nobody\n"
               "LABEL org.example.kind=test\n"
               "EXPOSE 8080\n"
               "CMD echo \"$GREETING $TARGET from $(pwd) as $(id -un)\"\n");
    CommandResult built = build({"-t", "user:1", "--label", "extra=yes"});
    ASSERT_EQ(built.exit_code, 0) << built;
    CommandResult ran = run({"user:1"});
    EXPECT_EQ(ran.out, "hello there world from /srv/data as nobody\n") << ran;
    EXPECT_EQ(run({"user:1", "ls"}).out, "made-here\n");
    json config = json::parse(berth({"image", "inspect", "user:1"}).out)[0]["Config"];
    EXPECT_EQ(config["Labels"]["org.example.kind"], "test");
    EXPECT_EQ(config["Labels"]["extra"], "yes");
    json history = json::parse(berth({"image", "inspect", "user:1"}).out)[0];
    EXPECT_TRUE(config["ExposedPorts"].contains("8080/tcp")) << config;
}

TEST_F(BuildTest, ConfigInstructionsArgsBeforeFromAndOnbuild) {
    write_text(context_ / "owned.txt", "owned\n");
    dockerfile("ARG BASE=busybox\n"
               "FROM ${BASE} AS parent\n"
               "ONBUILD RUN echo triggered > /onbuild\n"
               "FROM parent\n"
               "ARG BASE\n"
               "RUN echo \"base=$BASE\" > /base\n"
               "COPY --chown=nobody:nobody --chmod=0600 owned.txt /owned.txt\n"
               "STOPSIGNAL SIGINT\n"
               "VOLUME /data\n"
               "HEALTHCHECK --interval=5s --retries=2 CMD true\n"
               "ENTRYPOINT [\"/bin/sh\", \"-c\"]\n"
               "CMD [\"cat /onbuild /base\"]\n");
    CommandResult built = build({"--target", "parent", "-t", "config:parent"});
    ASSERT_EQ(built.exit_code, 0) << built;
    CommandResult child = build({"-t", "config:1"});
    ASSERT_EQ(child.exit_code, 0) << child;
    EXPECT_EQ(run({"config:1"}).out, "triggered\nbase=busybox\n");
    EXPECT_EQ(run({"config:1", "stat -c '%U %a' /owned.txt"}).out, "nobody 600\n");
    json config = json::parse(berth({"image", "inspect", "config:1"}).out)[0]["Config"];
    EXPECT_EQ(config["StopSignal"], "SIGINT") << config;
    json image = json::parse(berth({"image", "inspect", "config:1"}).out)[0];
    json parent = json::parse(berth({"image", "inspect", "config:parent"}).out)[0];
    EXPECT_GT(image["RootFS"]["Layers"].size(), parent["RootFS"]["Layers"].size());
}

TEST_F(BuildTest, ScratchImagesCopyFromAnImageAndPlatforms) {
    dockerfile("FROM --platform=$BUILDPLATFORM busybox AS tools\n"
               "FROM scratch\n"
               "COPY --from=busybox /bin/busybox /bin/busybox\n"
               "COPY --from=tools /etc/passwd /etc/passwd\n"
               "ENTRYPOINT [\"/bin/busybox\"]\n"
               "CMD [\"echo\", \"from scratch\"]\n");
    CommandResult built = build({"-t", "scratch:1"});
    ASSERT_EQ(built.exit_code, 0) << built;
    EXPECT_EQ(run({"scratch:1"}).out, "from scratch\n");
    json image = json::parse(berth({"image", "inspect", "scratch:1"}).out)[0];
    EXPECT_EQ(image["RootFS"]["Layers"].size(), 2u) << image;
    EXPECT_NE(run({"scratch:1", "ls", "/bin/sh"}).exit_code, 0) << "only what was copied";

    dockerfile("FROM --platform=linux/s390x busybox\n");
    CommandResult foreign = build({});
    EXPECT_NE(foreign.exit_code, 0);
    EXPECT_NE(foreign.err.find("Dockerfile:1"), std::string::npos) << foreign.err;
    EXPECT_NE(foreign.err.find("platform"), std::string::npos) << foreign.err;
}

TEST_F(BuildTest, AKilledBuildsLeftoversAreRemovedByTheNext) {
    // What a build killed during a COPY leaves: its work directory (a tmpfs)
    // with the overlay still mounted, named after its (now gone) pid.
    fs::path stale = root() / "build" / "4194303-0123456789abcdef";
    fs::create_directories(stale);
    ASSERT_EQ(run_command({"mount", "-t", "tmpfs", "tmpfs", stale.string()}).exit_code, 0);
    fs::create_directories(stale / "rootfs");
    fs::create_directories(stale / "upper");
    ASSERT_EQ(run_command({"mount", "-t", "tmpfs", "tmpfs", (stale / "rootfs").string()}).exit_code,
              0);
    fs::path alive = root() / "build" / (std::to_string(::getpid()) + "-0123456789abcdef");
    fs::create_directories(alive);
    dockerfile("FROM busybox\nENV A=1\n");
    CommandResult built = build({});
    EXPECT_EQ(built.exit_code, 0) << built;
    EXPECT_FALSE(fs::exists(stale));
    EXPECT_TRUE(fs::exists(alive)) << "a running build's directory was removed";
    fs::remove_all(alive);
}

TEST_F(BuildTest, ACopyTooBigForItsTmpfsIsDoneOnDisk) {
    write_text(context_ / "big.bin", std::string(1 << 20, 'x'));
    dockerfile("FROM busybox\nCOPY big.bin /big.bin\n");
    CommandResult built =
        run_command({"env", "BERTH_BUILD_TMPFS_SIZE=64k", BERTH_PATH, "--root", root().string(),
                     "build", "-t", "bigcopy:1", context_.string()});
    ASSERT_EQ(built.exit_code, 0) << built;
    EXPECT_EQ(run({"bigcopy:1", "wc", "-c", "/big.bin"}).out, "1048576 /big.bin\n");
}

TEST_F(BuildTest, CopyOutOfTheContextIsRefusedWithItsLine) {
    write_text(dir_->path() / "outside.txt", "outside\n");
    dockerfile("FROM busybox\n\nCOPY ../outside.txt /x\n");
    CommandResult refused = build({});
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.err.find("Dockerfile:3"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("outside the build context"), std::string::npos) << refused.err;
}

TEST_F(BuildTest, ContextSymlinksDoNotLeadOut) {
    write_text(dir_->path() / "host-secret", "secret\n");
    fs::create_directories(context_ / "dir");
    fs::create_symlink(dir_->path() / "host-secret", context_ / "dir/link");
    fs::create_symlink(dir_->path() / "host-secret", context_ / "top-link");
    write_text(context_ / "dir/plain", "plain\n");

    // Inside a copied directory the link is copied as a link, never read.
    dockerfile("FROM busybox\nCOPY dir /copied/\n");
    CommandResult built = build({"-t", "links:1"});
    ASSERT_EQ(built.exit_code, 0) << built;
    EXPECT_EQ(run({"links:1", "readlink", "/copied/link"}).out,
              (dir_->path() / "host-secret").string() + "\n");
    EXPECT_NE(run({"links:1", "cat", "/copied/link"}).exit_code, 0);

    // Named as a source, it resolves inside the context, where the target is missing.
    dockerfile("FROM busybox\nCOPY top-link /x\n");
    CommandResult refused = build({});
    EXPECT_NE(refused.exit_code, 0) << refused.out;
    EXPECT_NE(refused.err.find("Dockerfile:2"), std::string::npos) << refused.err;
    EXPECT_EQ(refused.out.find("secret"), std::string::npos);
}

TEST_F(BuildTest, SourceDateEpochGivesTheSameDigestTwice) {
    write_text(context_ / "f.txt", "data\n");
    dockerfile("FROM busybox\nCOPY f.txt /f.txt\nRUN echo built > /built-at && mkdir -p /var/x\n"
               "ENV A=1\n");
    CommandResult first =
        build({"--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=1700000000", "-t", "repro:1"});
    ASSERT_EQ(first.exit_code, 0) << first;
    ::sleep(1); // a second later, a build that kept timestamps would differ
    CommandResult second =
        build({"--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=1700000000", "-t", "repro:2"});
    ASSERT_EQ(second.exit_code, 0) << second;
    EXPECT_EQ(image_id("repro:1"), image_id("repro:2"));
    json inspected = json::parse(berth({"image", "inspect", "repro:1"}).out)[0];
    EXPECT_EQ(inspected["Created"], "2023-11-14T22:13:20Z");
    CommandResult third = build({"--no-cache", "-t", "repro:3"});
    ASSERT_EQ(third.exit_code, 0) << third;
    EXPECT_NE(image_id("repro:3"), image_id("repro:1"));
}

TEST_F(BuildTest, FailingRunStopsWithItsExitCodeAndLine) {
    dockerfile("FROM busybox\nRUN echo before\nRUN echo shown-output && exit 7\nRUN echo never\n");
    CommandResult failed = build({"-t", "fails:1"});
    EXPECT_EQ(failed.exit_code, 7) << failed;
    EXPECT_NE(failed.out.find("\nshown-output\n"), std::string::npos) << failed.out;
    EXPECT_EQ(failed.out.find("never\n"), std::string::npos);
    EXPECT_NE(failed.err.find("Dockerfile:3"), std::string::npos) << failed.err;
    EXPECT_NE(failed.err.find("exit code 7"), std::string::npos) << failed.err;
    EXPECT_EQ(image_id("fails:1"), "");
}

TEST_F(BuildTest, ParseErrorsNameTheLine) {
    dockerfile("FROM busybox\nRUN true\nBOGUS thing\n");
    CommandResult failed = build({});
    EXPECT_EQ(failed.exit_code, 1);
    EXPECT_NE(failed.err.find("Dockerfile:3: unknown instruction BOGUS"), std::string::npos)
        << failed.err;
    dockerfile("FROM busybox\nCOPY --bogus a b\n");
    EXPECT_NE(build({}).err.find("Dockerfile:2: unknown flag --bogus"), std::string::npos);
    dockerfile("FROM no-such-image\n");
    EXPECT_NE(build({}).err.find("no such image"), std::string::npos);
}

TEST_F(BuildTest, HeredocsAndShellFormsRun) {
    dockerfile("FROM busybox\n"
               "ARG NAME=heredoc\n"
               "RUN <<EOF\n"
               "echo \"line one $NAME\" > /script-out\n"
               "echo line two >> /script-out\n"
               "EOF\n"
               "COPY <<-CONF /etc/app.conf\n"
               "\tname=${NAME}\n"
               "\tCONF\n"
               "RUN <<SCRIPT\n"
               "#!/bin/sh\n"
               "echo \"shebang $0\" | cut -c1-12 > /shebang\n"
               "SCRIPT\n"
               "SHELL [\"/bin/sh\", \"-ec\"]\n"
               "RUN test \"$0\" = /bin/sh && echo ok > /shell-ok\n");
    CommandResult built = build({"-t", "heredoc:1"});
    ASSERT_EQ(built.exit_code, 0) << built;
    EXPECT_EQ(
        run({"heredoc:1", "cat", "/script-out", "/etc/app.conf", "/shell-ok", "/shebang"}).out,
        "line one heredoc\nline two\nname=heredoc\nok\nshebang /tmp\n");
}

TEST_F(BuildTest, DockerfileOnStdinQuietAndIidfile) {
    fs::path iidfile = context_ / "iid";
    CommandResult built =
        berth({"build", "-q", "--iidfile", iidfile.string(), "-t", "stdin:1", "-"},
              "FROM busybox\nRUN echo should-not-show\nCMD [\"echo\", \"from stdin\"]\n");
    ASSERT_EQ(built.exit_code, 0) << built;
    EXPECT_EQ(built.out.find("should-not-show"), std::string::npos) << built.out;
    EXPECT_EQ(trim(built.out), image_id("stdin:1"));
    EXPECT_EQ(read_text(iidfile), image_id("stdin:1"));
    EXPECT_EQ(run({"stdin:1"}).out, "from stdin\n");
}

TEST_F(BuildTest, ContextAsATarOnStdin) {
    fs::create_directories(context_ / "tree");
    write_text(context_ / "tree/Dockerfile", "FROM busybox\nCOPY msg /msg\n");
    write_text(context_ / "tree/msg", "tarred context\n");
    CommandResult tarred = run_command(
        {"tar", "-cf", (context_ / "ctx.tar").string(), "-C", (context_ / "tree").string(), "."});
    ASSERT_EQ(tarred.exit_code, 0);
    CommandResult built = berth({"build", "-t", "tarctx:1", "-"}, read_text(context_ / "ctx.tar"));
    ASSERT_EQ(built.exit_code, 0) << built;
    EXPECT_EQ(run({"tarctx:1", "cat", "/msg"}).out, "tarred context\n");
}

} // namespace
