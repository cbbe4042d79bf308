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
