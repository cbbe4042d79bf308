// `berth build` runs stages that do not depend on each other at the same
// time: proved by two stages that can only finish if the other one runs
// meanwhile (each waits for the other's mark in a shared cache mount).
#include "build_test_fixture.hpp"

namespace {

using namespace berth_build_test;

std::string rendezvous(const std::string& mine, const std::string& other) {
    return "RUN --mount=type=cache,id=rendezvous-" + std::to_string(::getpid()) +
           ",target=/r touch /r/" + mine + " && for i in $(seq 150); do [ -e /r/" + other +
           " ] && echo " + mine + " > /" + mine + " && exit 0; sleep 0.1; done; exit 1\n";
}

TEST_F(BuildTest, IndependentStagesRunAtTheSameTime) {
    dockerfile("FROM busybox AS left\n" + rendezvous("left", "right") +
               "FROM busybox AS unused\n"
               "RUN exit 9\n"
               "FROM busybox AS right\n" +
               rendezvous("right", "left") +
               "FROM busybox\n"
               "COPY --from=left /left /\n"
               "COPY --from=right /right /\n"
               "CMD [\"cat\", \"/left\", \"/right\"]\n");
    CommandResult built = build({"-t", "parallel:1"});
    ASSERT_EQ(built.exit_code, 0) << built;
    EXPECT_EQ(built.out.find("RUN exit 9"), std::string::npos) << "the unused stage was built";
    EXPECT_NE(built.out.find("[left] Step 2/8 : RUN"), std::string::npos) << built.out;
    EXPECT_NE(built.out.find("[right] Step 4/8 : RUN"), std::string::npos) << built.out;
    EXPECT_EQ(run({"parallel:1"}).out, "left\nright\n");

    // A fully cached rebuild gives the same image.
    std::string id = image_id("parallel:1");
    CommandResult again = build({"-t", "parallel:1"});
    ASSERT_EQ(again.exit_code, 0) << again;
    EXPECT_EQ(count_of(again.out, "Using cache"), 5) << again.out;
    EXPECT_EQ(image_id("parallel:1"), id);
}

// Two stages at the same time with one cache id: `private` gives the second
// a directory of its own, `locked` makes it wait for the first.
TEST_F(BuildTest, CacheSharingPrivateAndLockedBetweenParallelStages) {
    const std::string id = std::to_string(::getpid());
    auto private_stage = [&](const std::string& mine, const std::string& other) {
        return "FROM busybox AS " + mine + "\nRUN --mount=type=cache,id=meet-" + id +
               ",target=/r --mount=type=cache,id=private-" + id +
               ",target=/p,sharing=private touch /p/" + mine + " /r/" + mine +
               " && for i in $(seq 150); do [ -e /r/" + other +
               " ] && break; sleep 0.1; done && ls /p > /" + mine + "\n";
    };
    dockerfile(private_stage("one", "two") + private_stage("two", "one") +
               "FROM busybox\nCOPY --from=one /one /\nCOPY --from=two /two /\n");
    CommandResult built = build({"-t", "sharing:private"});
    ASSERT_EQ(built.exit_code, 0) << built;
    EXPECT_EQ(run({"sharing:private", "cat", "/one", "/two"}).out, "one\ntwo\n")
        << "both stages saw one private cache directory";

    auto locked_stage = [&](const std::string& mine) {
        return "FROM busybox AS " + mine + "\nRUN --mount=type=cache,id=locked-" + id +
               ",target=/l,sharing=locked echo start-" + mine +
               " >> /l/log && sleep 0.5 && echo end-" + mine + " >> /l/log && cp /l/log /" + mine +
               "\n";
    };
    dockerfile(locked_stage("first") + locked_stage("second") +
               "FROM busybox\nCOPY --from=first /first /\nCOPY --from=second /second /\n");
    CommandResult serialized = build({"-t", "sharing:locked"});
    ASSERT_EQ(serialized.exit_code, 0) << serialized;
    std::string full = trim(run({"sharing:locked", "sh", "-c",
                                 "if [ $(wc -l < /first) -gt $(wc -l < /second) ]; then cat "
                                 "/first; else cat /second; fi"})
                                .out);
    EXPECT_TRUE(full == "start-first\nend-first\nstart-second\nend-second" ||
                full == "start-second\nend-second\nstart-first\nend-first")
        << "the locked cache was used by both at once:\n"
        << full;
}

TEST_F(BuildTest, AFailingParallelStageStopsTheBuildWithItsCodeAndLine) {
    dockerfile("FROM busybox AS bad\n"
               "RUN echo failing && exit 7\n"
               "FROM busybox AS good\n"
               "RUN sleep 0.5 && echo fine > /fine\n"
               "FROM busybox\n"
               "COPY --from=bad /etc/passwd /a\n"
               "COPY --from=good /fine /b\n");
    CommandResult built = build({"-t", "parallel:bad"});
    EXPECT_EQ(built.exit_code, 7) << built;
    EXPECT_NE(built.err.find("Dockerfile:2: RUN echo failing && exit 7: did not complete "
                             "successfully: exit code 7"),
              std::string::npos)
        << built.err;
    EXPECT_EQ(image_id("parallel:bad"), "");
}

} // namespace
