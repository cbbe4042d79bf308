// `berth cp` both ways, and its safety: symlinks in the container (to "/",
// climbing with "..", or naming a host path), even swapped while cp runs,
// never make it read or write a host file (the class of CVE-2018-15664).
#include "engine_fixture.hpp"

namespace {

class CopyTest : public EngineTest {
  protected:
    void SetUp() override {
        fs::remove_all(scratch());
        fs::create_directories(scratch());
    }
    static fs::path scratch() { return dir_->path() / "copy"; }
    static bool rootfs_mounted() {
        return read_text("/proc/self/mountinfo").find((root() / "containers").string()) !=
               std::string::npos;
    }
};

TEST_F(CopyTest, BothWaysAsDocker) {
    ASSERT_EQ(run({"-d", "--name", "box", "-v", "copyvol:/vol", "busybox", "sh", "-c",
                   "mkdir -p /d/e; echo deep > /d/e/f; echo in-volume > /vol/v; exec sleep 60"})
                  .exit_code,
              0);
    // The script runs after start: wait for its files.
    for (int i = 0; i < 100 && berth({"exec", "box", "test", "-f", "/vol/v"}).exit_code != 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));

    EXPECT_EQ(berth({"cp", "box:/d/e/f", scratch().string()}).exit_code, 0);
    EXPECT_EQ(read_text(scratch() / "f"), "deep\n") << "into a directory, by its name";
    EXPECT_EQ(berth({"cp", "box:/d/e/f", (scratch() / "renamed").string()}).exit_code, 0);
    EXPECT_EQ(read_text(scratch() / "renamed"), "deep\n");
    EXPECT_EQ(berth({"cp", "box:/d", (scratch() / "tree").string()}).exit_code, 0);
    EXPECT_EQ(read_text(scratch() / "tree" / "e" / "f"), "deep\n");
    EXPECT_EQ(berth({"cp", "box:/vol/v", scratch().string()}).exit_code, 0);
    EXPECT_EQ(read_text(scratch() / "v"), "in-volume\n") << "the running container's volumes";

    std::ofstream(scratch() / "host-file") << "from the host\n";
    EXPECT_EQ(berth({"cp", (scratch() / "host-file").string(), "box:/d"}).exit_code, 0);
    EXPECT_EQ(berth({"exec", "box", "cat", "/d/host-file"}).out, "from the host\n");
    EXPECT_EQ(berth({"exec", "box", "stat", "-c", "%u:%g", "/d/host-file"}).out, "0:0\n");
    EXPECT_EQ(berth({"cp", (scratch() / "tree").string(), "box:/newtree"}).exit_code, 0);
    EXPECT_EQ(berth({"exec", "box", "cat", "/newtree/e/f"}).out, "deep\n");

    // Docker's rules at the edges: "/." copies what is inside; a file into
    // "DIR/" needs DIR; a directory never replaces a file.
    fs::create_directories(scratch() / "contents");
    EXPECT_EQ(berth({"cp", "box:/d/.", (scratch() / "contents").string()}).exit_code, 0);
    EXPECT_EQ(read_text(scratch() / "contents" / "e" / "f"), "deep\n") << "no d/ level";
    CommandResult no_dir = berth({"cp", "box:/d/e/f", (scratch() / "nodir").string() + "/"});
    EXPECT_EQ(no_dir.exit_code, 1) << no_dir;
    EXPECT_NE(no_dir.err.find("does not exist"), std::string::npos) << no_dir;
    EXPECT_FALSE(fs::exists(scratch() / "nodir")) << "no file made in its place";
    CommandResult onto_file = berth({"cp", "box:/d", (scratch() / "renamed").string()});
    EXPECT_EQ(onto_file.exit_code, 1) << onto_file;
    EXPECT_NE(onto_file.err.find("cannot copy a directory to a file"), std::string::npos);
    EXPECT_EQ(read_text(scratch() / "renamed"), "deep\n") << "left as it was";
    EXPECT_EQ(berth({"cp", (scratch() / "host-file").string(), "box:/nodir/"}).exit_code, 1);
    EXPECT_NE(berth({"exec", "box", "test", "-e", "/nodir"}).exit_code, 0);
    EXPECT_EQ(berth({"cp", (scratch() / "tree").string(), "box:/d/host-file"}).exit_code, 1);
    EXPECT_EQ(berth({"exec", "box", "cat", "/d/host-file"}).out, "from the host\n");

    // A stopped container: its rootfs is mounted for the copy, then unmounted.
    ASSERT_EQ(berth({"stop", "-t", "0", "box"}).exit_code, 0);
    EXPECT_FALSE(rootfs_mounted());
    EXPECT_EQ(berth({"cp", (scratch() / "host-file").string(), "box:/stopped-copy"}).exit_code, 0);
    EXPECT_EQ(berth({"cp", "box:/stopped-copy", (scratch() / "back").string()}).exit_code, 0);
    EXPECT_EQ(read_text(scratch() / "back"), "from the host\n");
    EXPECT_FALSE(rootfs_mounted()) << "cp left the rootfs mounted";

    CommandResult missing = berth({"cp", "box:/no/such", scratch().string()});
    EXPECT_NE(missing.exit_code, 0);
    EXPECT_NE(missing.err.find("Could not find the file"), std::string::npos) << missing;
    EXPECT_NE(berth({"cp", "box:/a", "box:/b"}).exit_code, 0);
    EXPECT_NE(berth({"cp", "/a", "/b"}).exit_code, 0);
    EXPECT_NE(berth({"cp", "nobox:/a", scratch().string()}).exit_code, 0);
    EXPECT_FALSE(rootfs_mounted());
    EXPECT_EQ(berth({"rm", "box"}).exit_code, 0);
    EXPECT_EQ(berth({"volume", "rm", "copyvol"}).exit_code, 0);
    expect_nothing_left();
}

TEST_F(CopyTest, SymlinksInTheContainerStayInside) {
    fs::create_directories(scratch() / "host-only");
    std::ofstream(scratch() / "host-only" / "secret") << "HOST SECRET\n";
    std::string host_only = (scratch() / "host-only").string();
    ASSERT_EQ(
        run({"-d", "--name", "links", "busybox", "sh", "-c",
             "ln -s / /x; ln -s ../../../../.. /y; ln -s " + host_only + " /abs; exec sleep 60"})
            .exit_code,
        0);
    for (int i = 0; i < 100 && berth({"exec", "links", "test", "-L", "/abs"}).exit_code != 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));

    for (const char* through : {"/x", "/y"}) {
        fs::path out = scratch() / (std::string("passwd") + (through + 1));
        CommandResult copied =
            berth({"cp", std::string("links:") + through + "/etc/passwd", out.string()});
        EXPECT_EQ(copied.exit_code, 0) << copied;
        EXPECT_EQ(read_text(out),
                  "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/"
                  "false\n")
            << "the container's passwd, not the host's";
    }
    CommandResult secret = berth({"cp", "links:/abs/secret", (scratch() / "stolen").string()});
    EXPECT_NE(secret.exit_code, 0) << "a host path named by a symlink is not reachable";
    EXPECT_FALSE(fs::exists(scratch() / "stolen"));

    std::ofstream(scratch() / "payload") << "planted\n";
    EXPECT_EQ(berth({"cp", (scratch() / "payload").string(), "links:/y/tmp/"}).exit_code, 0);
    EXPECT_EQ(berth({"exec", "links", "cat", "/tmp/payload"}).out, "planted\n");
    EXPECT_FALSE(fs::exists("/tmp/payload")) << "written on the host's /tmp";
    berth({"cp", (scratch() / "payload").string(), "links:/abs/"});
    EXPECT_FALSE(fs::exists(scratch() / "host-only" / "payload")) << "written on the host";
    EXPECT_EQ(read_text(scratch() / "host-only" / "secret"), "HOST SECRET\n");
    EXPECT_EQ(berth({"rm", "-f", "links"}).exit_code, 0);
    expect_nothing_left();
}

// The container swaps /data between a directory, a symlink to its own
// directory and a symlink to a host path while cp runs again and again.
TEST_F(CopyTest, RaceSwappingSymlinksNeverReachesTheHost) {
    fs::create_directories(scratch() / "host-only");
    std::ofstream(scratch() / "host-only" / "secret") << "HOST SECRET\n";
    std::string host_only = (scratch() / "host-only").string();
    std::string loop = "mkdir /real; echo container > /real/secret; while :; do "
                       "rm -f /data; ln -s /real /data; rm -f /data; ln -s " +
                       host_only +
                       " /data; rm -f /data; mkdir /data; echo dir > /data/secret; "
                       "rm -rf /data; done";
    ASSERT_EQ(run({"-d", "--name", "racer", "busybox", "sh", "-c", loop}).exit_code, 0);
    std::ofstream(scratch() / "payload") << "planted\n";
    int copied_out = 0;
    for (int i = 0; i < 60; ++i) {
        fs::path out = scratch() / ("out" + std::to_string(i));
        if (berth({"cp", "racer:/data/secret", out.string()}).exit_code == 0) {
            ++copied_out;
            std::string text = read_text(out);
            // The container's own files (perhaps caught half-written by its
            // loop), or what cp itself put there; never the host's.
            bool legitimate = false;
            for (const char* content : {"container\n", "dir\n", "planted\n"})
                legitimate = legitimate || std::string(content).starts_with(text);
            EXPECT_TRUE(legitimate) << "\"" << text << "\"";
        }
        berth({"cp", (scratch() / "payload").string(), "racer:/data/"});
        berth({"cp", (scratch() / "payload").string(), "racer:/data/secret"});
    }
    EXPECT_EQ(read_text(scratch() / "host-only" / "secret"), "HOST SECRET\n");
    EXPECT_FALSE(fs::exists(scratch() / "host-only" / "payload")) << "cp wrote on the host";
    std::cout << "cp out succeeded " << copied_out << " of 60 times during the race\n";
    EXPECT_EQ(berth({"rm", "-f", "racer"}).exit_code, 0);
    expect_nothing_left();
}

TEST_F(CopyTest, DiffAndExport) {
    CommandResult ran =
        run({"--name", "changed", "busybox", "sh", "-c",
             "echo x > /new; rm /etc/group; echo y >> /etc/passwd; mkdir /tmp/a; ln -s /etc /l"});
    ASSERT_EQ(ran.exit_code, 0) << ran;
    CommandResult diff = berth({"diff", "changed"});
    EXPECT_EQ(diff.exit_code, 0) << diff;
    EXPECT_EQ(diff.out, "C /etc\nD /etc/group\nC /etc/passwd\nA /l\nA /new\nC /tmp\nA /tmp/a\n");

    fs::path tar = scratch() / "changed.tar";
    CommandResult exported = berth({"export", "-o", tar.string(), "changed"});
    EXPECT_EQ(exported.exit_code, 0) << exported;
    EXPECT_FALSE(rootfs_mounted()) << "export left the rootfs mounted";
    fs::create_directories(scratch() / "unpacked");
    CommandResult untar =
        run_command({"tar", "-xf", tar.string(), "-C", (scratch() / "unpacked").string()});
    ASSERT_EQ(untar.exit_code, 0) << untar;
    EXPECT_EQ(read_text(scratch() / "unpacked" / "new"), "x\n");
    EXPECT_FALSE(fs::exists(scratch() / "unpacked" / "etc" / "group"));
    EXPECT_EQ(fs::read_symlink(scratch() / "unpacked" / "l"), "/etc") << "a symlink, not followed";
    EXPECT_TRUE(fs::is_symlink(scratch() / "unpacked" / "bin" / "sh"));
    EXPECT_TRUE(fs::is_regular_file(scratch() / "unpacked" / "bin" / "busybox"));
    EXPECT_NE(berth({"export", "-o", (scratch() / "x.tar").string(), "nothing"}).exit_code, 0);
    EXPECT_FALSE(fs::exists(scratch() / "x.tar")) << "no half file";
    EXPECT_EQ(berth({"rm", "changed"}).exit_code, 0);
    expect_nothing_left();
}

} // namespace
