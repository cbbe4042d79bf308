// `berth build` sources beyond the context: ADD of http URLs (from a small
// HTTP server of the test's own on loopback), `--checksum`, git URLs
// refused, COPY --parents and --exclude, and `build --pull` against
// Debian's docker-registry on 127.0.0.1.
#include "../registry/registry_fixture.hpp"
#include "build_test_fixture.hpp"

#include "berth_test/loopback_server.hpp"

#include <atomic>
#include <cstring>

#include <unistd.h>

namespace {

using namespace berth_build_test;

// Serves GET /file.txt (with a Last-Modified) and 404 for anything else,
// one connection at a time, until destroyed.
class FileServer {
  public:
    static constexpr const char* body = "downloaded content\n";
    static constexpr const char* last_modified = "Wed, 21 Oct 2015 07:28:00 GMT";
    static constexpr long long last_modified_seconds = 1445412480;

    FileServer() : server_([this](int client) { answer(client); }, 8) {}
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
    }
    int requests() const { return requests_; }

  private:
    // One request per connection, answered and closed.
    void answer(int client) {
        std::string request;
        char buffer[4096];
        while (request.find("\r\n\r\n") == std::string::npos) {
            ssize_t got = ::read(client, buffer, sizeof buffer);
            if (got <= 0) break;
            request.append(buffer, static_cast<std::size_t>(got));
        }
        ++requests_;
        std::string response;
        if (request.starts_with("GET /file.txt ")) {
            response = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(strlen(body)) +
                       "\r\nLast-Modified: " + last_modified + "\r\nConnection: close\r\n\r\n" +
                       body;
        } else {
            response = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: "
                       "close\r\n\r\n";
        }
        ssize_t written = ::write(client, response.data(), response.size());
        (void)written;
        ::close(client);
    }

    std::atomic<int> requests_{0};
    berth_test::LoopbackServer server_; // last: it stops before requests_ goes
};

std::string sha256_hex(const std::string& text) {
    CommandResult hashed = run_command({"sha256sum"}, text);
    return hashed.out.substr(0, 64);
}

TEST_F(BuildTest, AddFromAUrlKeepsItsTimeAndChecksChecksums) {
    FileServer server;
    std::string good = sha256_hex(FileServer::body);
    dockerfile("FROM busybox\n"
               "ADD " +
               server.url("/file.txt") +
               " /dl/\n"
               "ADD --checksum=sha256:" +
               good + " " + server.url("/file.txt") + " /named.txt\n");
    CommandResult built = build({"-t", "addurl:1"});
    ASSERT_EQ(built.exit_code, 0) << built;
    EXPECT_EQ(run({"addurl:1", "cat", "/dl/file.txt", "/named.txt"}).out,
              std::string(FileServer::body) + FileServer::body);
    EXPECT_EQ(run({"addurl:1", "stat", "-c", "%Y %a", "/dl/file.txt"}).out,
              std::to_string(FileServer::last_modified_seconds) + " 600\n");

    // Downloaded again on each build; the same content is a cache hit.
    int before = server.requests();
    CommandResult again = build({"-t", "addurl:1"});
    ASSERT_EQ(again.exit_code, 0) << again;
    EXPECT_EQ(count_of(again.out, "Using cache"), 2) << again.out;
    EXPECT_EQ(server.requests(), before + 2);

    std::string wrong(64, 'a');
    dockerfile("FROM busybox\nENV X=1\n"
               "ADD --checksum=sha256:" +
               wrong + " " + server.url("/file.txt") + " /x\n");
    CommandResult mismatch = build({});
    EXPECT_NE(mismatch.exit_code, 0);
    EXPECT_NE(mismatch.err.find("Dockerfile:3: ADD: checksum mismatch for " +
                                server.url("/file.txt") + ": expected sha256:" + wrong +
                                ", got sha256:" + good),
              std::string::npos)
        << mismatch.err;

    dockerfile("FROM busybox\nADD --checksum=md5:abc " + server.url("/file.txt") + " /x\n");
    EXPECT_NE(build({}).err.find("Dockerfile:2: ADD: --checksum=md5:abc: expected sha256:"),
              std::string::npos);
    dockerfile("FROM busybox\nADD " + server.url("/missing") + " /x\n");
    CommandResult missing = build({});
    EXPECT_NE(missing.exit_code, 0);
    EXPECT_NE(
        missing.err.find("Dockerfile:2: ADD: GET " + server.url("/missing") + ": HTTP status 404"),
        std::string::npos)
        << missing.err;
    dockerfile("FROM busybox\nADD https://example.invalid/repo.git /src\n");
    EXPECT_NE(build({}).err.find("Dockerfile:2: ADD: ADD of a git repository is not supported "
                                 "yet: https://example.invalid/repo.git"),
              std::string::npos);
    dockerfile("FROM busybox\nADD git@example.invalid:team/repo /src\n");
    EXPECT_NE(build({}).err.find("ADD of a git repository is not supported yet"),
              std::string::npos);
    dockerfile("FROM busybox\nCOPY " + server.url("/file.txt") + " /x\n");
    EXPECT_NE(build({}).err.find("Dockerfile:2: COPY: COPY cannot fetch a URL"), std::string::npos);
}

TEST_F(BuildTest, CopyParentsAndExclude) {
    write_text(context_ / "a/x.txt", "ax\n");
    write_text(context_ / "a/y.md", "ay\n");
    write_text(context_ / "b/c/z.txt", "bcz\n");
    write_text(context_ / "b/c/skip.md", "skip\n");
    dockerfile("FROM busybox\n"
               "COPY --parents a/x.txt b/c/z.txt /out/\n"
               "COPY --parents ./b/./c/z.txt /pivot/\n"
               "COPY --exclude=**/*.md a b /ex/\n");
    CommandResult built = build({"-t", "parents:1"});
    ASSERT_EQ(built.exit_code, 0) << built;
    EXPECT_EQ(run({"parents:1", "cat", "/out/a/x.txt", "/out/b/c/z.txt", "/pivot/c/z.txt"}).out,
              "ax\nbcz\nbcz\n");
    EXPECT_EQ(run({"parents:1", "find", "/ex", "-type", "f"}).out, "/ex/x.txt\n/ex/c/z.txt\n");

    // An excluded file is not part of the step: changing it is a cache hit.
    write_text(context_ / "b/c/skip.md", "changed\n");
    CommandResult again = build({"-t", "parents:1"});
    ASSERT_EQ(again.exit_code, 0) << again;
    EXPECT_EQ(count_of(again.out, "Using cache"), 3) << again.out;

    dockerfile("FROM busybox\nCOPY --parents ../a /x/\n");
    EXPECT_NE(build({}).err.find("Dockerfile:2: COPY: "), std::string::npos);
}

TEST_F(BuildTest, PullTakesTheRegistrysNewerBase) {
    if (run_command({"sh", "-c", "command -v docker-registry"}).exit_code != 0)
        GTEST_SKIP() << "needs docker-registry";
    registry_test::RegistryProcess registry(dir_->path() / "registry", {});
    const std::string base = registry.host() + "/test/base:1";
    fs::path publisher = dir_->path() / "publisher";
    auto on = [](const fs::path& store, std::vector<std::string> args) {
        return berth_test::run_berth(BERTH_PATH, store, std::move(args));
    };
    CommandResult made = berth_test::make_busybox_image(BERTH_MAKE_BUSYBOX_IMAGE, BERTH_PATH,
                                                        publisher, {"--name", base});
    ASSERT_EQ(made.exit_code, 0) << made;
    ASSERT_EQ(on(publisher, {"push", base}).exit_code, 0);
    ASSERT_EQ(berth({"pull", base}).exit_code, 0);

    // The registry gets a newer base; this store still has the old one.
    write_text(dir_->path() / "v2/Dockerfile", "FROM " + base + "\nRUN echo v2 > /version\n");
    CommandResult v2 = on(publisher, {"build", "-t", base, (dir_->path() / "v2").string()});
    ASSERT_EQ(v2.exit_code, 0) << v2;
    ASSERT_EQ(on(publisher, {"push", base}).exit_code, 0);

    dockerfile("FROM " + base + "\nRUN cat /version 2>/dev/null > /seen || echo v1 > /seen\n");
    CommandResult local = build({"-t", "pulled:1"});
    ASSERT_EQ(local.exit_code, 0) << local;
    EXPECT_EQ(run({"pulled:1", "cat", "/seen"}).out, "v1\n");
    CommandResult pulled = build({"--pull", "-t", "pulled:2"});
    ASSERT_EQ(pulled.exit_code, 0) << pulled;
    EXPECT_EQ(count_of(pulled.out, "Using cache"), 0) << pulled.out;
    EXPECT_EQ(run({"pulled:2", "cat", "/seen"}).out, "v2\n");

    dockerfile("FROM 127.0.0.1:1/none/such:1\n");
    CommandResult unreachable = build({"--pull"});
    EXPECT_NE(unreachable.exit_code, 0);
    EXPECT_NE(unreachable.err.find("Dockerfile:1: FROM"), std::string::npos) << unreachable.err;
    EXPECT_EQ(read_text("/proc/self/mountinfo").find(publisher.string()), std::string::npos)
        << "a mount left in the publisher's store";
}

} // namespace
