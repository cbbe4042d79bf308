// system prune, cp with "-" (a tar on stdin/stdout), ps --size.
#include "engine_fixture.hpp"

namespace {

class PruneCopyTest : public EngineTest {
  protected:
    // `berth ARGS` inside a shell pipeline: "$B" is berth with our root.
    static CommandResult shell(const std::string& script) {
        std::string berth_command = std::string(BERTH_PATH) + " --root " + root().string();
        return run_command({"bash", "-o", "pipefail", "-c", "B='" + berth_command + "'; " + script},
                           {}, 30000);
    }
};

TEST_F(PruneCopyTest, SystemPruneRemovesWhatNothingUses) {
    ASSERT_EQ(run({"--name", "done", "-v", "/data", "busybox", "sh", "-c",
                   "head -c 100000 /dev/zero > /data/filler"})
                  .exit_code,
              0);
    std::string done_id = inspect("done")["Id"];
    std::string volume = inspect("done")["Mounts"][0]["Name"];
    ASSERT_EQ(berth({"rm", "done"}).exit_code, 0) << "the anonymous volume stays without -v";
    ASSERT_EQ(run({"--name", "stopped", "busybox", "true"}).exit_code, 0);
    std::string stopped_id = inspect("stopped")["Id"];
    ASSERT_EQ(berth({"commit", "stopped"}).exit_code, 0) << "a dangling image";
    std::string network = "prune-net-" + std::to_string(::getpid());
    ASSERT_EQ(berth({"network", "create", network}).exit_code, 0);
    ASSERT_EQ(run({"-d", "--name", "busy", "busybox", "sleep", "60"}).exit_code, 0);

    CommandResult pruned = berth({"system", "prune", "-f", "--volumes"});
    ASSERT_EQ(pruned.exit_code, 0) << pruned;
    EXPECT_NE(pruned.out.find("Deleted Containers:\n" + stopped_id + "\n"), std::string::npos)
        << pruned;
    EXPECT_NE(pruned.out.find("Deleted Networks:\n" + network + "\n"), std::string::npos) << pruned;
    EXPECT_NE(pruned.out.find("Deleted Volumes:\n" + volume + "\n"), std::string::npos) << pruned;
    EXPECT_NE(pruned.out.find("Deleted Images:\ndeleted: sha256:"), std::string::npos) << pruned;
    EXPECT_NE(pruned.out.find("Total reclaimed space: "), std::string::npos) << pruned;
    EXPECT_EQ(pruned.out.find("Total reclaimed space: 0B"), std::string::npos)
        << "the volume's 100 kB at least: " << pruned;
    EXPECT_EQ(inspect("busy")["State"]["Status"], "running") << "a running container stays";
    EXPECT_EQ(berth({"image", "inspect", "busybox"}).exit_code, 0) << "a named image stays";
    EXPECT_NE(berth({"volume", "inspect", volume}).exit_code, 0);
    EXPECT_NE(berth({"network", "inspect", network}).exit_code, 0);

    // -a: busybox stays while a container uses it.
    CommandResult all = berth({"system", "prune", "-a", "-f"});
    EXPECT_EQ(all.exit_code, 0) << all;
    EXPECT_EQ(all.out, "Total reclaimed space: 0B\n");
    EXPECT_EQ(berth({"image", "inspect", "busybox"}).exit_code, 0);

    CommandResult declined = shell("echo n | $B system prune");
    EXPECT_EQ(declined.exit_code, 0) << declined;
    EXPECT_NE(declined.out.find("WARNING! This will remove:\n  - all stopped containers\n"),
              std::string::npos)
        << declined;
    EXPECT_EQ(declined.out.find("Total reclaimed space"), std::string::npos) << declined;
    EXPECT_EQ(berth({"rm", "-f", "busy"}).exit_code, 0);
    expect_nothing_left();
}

TEST_F(PruneCopyTest, CopyTarStreamsBothWays) {
    ASSERT_EQ(run({"-d", "--name", "box", "busybox", "sh", "-c",
                   "mkdir -p /srv/site && echo hello > /srv/site/index.html && "
                   "ln -s / /srv/escape && sleep 60"})
                  .exit_code,
              0);
    for (int i = 0; i < 100 && berth({"exec", "box", "test", "-L", "/srv/escape"}).exit_code; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));

    CommandResult listed = shell("$B cp box:/srv/site - | tar -tvf -");
    ASSERT_EQ(listed.exit_code, 0) << listed;
    EXPECT_NE(listed.out.find("site/\n"), std::string::npos) << listed;
    EXPECT_NE(listed.out.find("site/index.html\n"), std::string::npos) << listed;
    CommandResult content = shell("$B cp box:/srv/site/index.html - | tar -xOf -");
    EXPECT_EQ(content.out, "hello\n") << content;
    CommandResult link = shell("$B cp box:/srv/escape - | tar -tvf -");
    EXPECT_NE(link.out.find("escape -> /"), std::string::npos) << "a symlink stays one: " << link;

    fs::path source = root().parent_path() / "cp-source";
    fs::create_directories(source / "sub");
    std::ofstream(source / "sub" / "file.txt") << "from the host\n";
    std::string marker = "berth-cp-test-" + std::to_string(::getpid());
    std::ofstream(source / marker) << "must stay in the container\n";
    CommandResult in = shell("tar -C " + source.string() + " -cf - . | $B cp - box:/srv");
    ASSERT_EQ(in.exit_code, 0) << in;
    EXPECT_EQ(berth({"exec", "box", "cat", "/srv/sub/file.txt"}).out, "from the host\n");
    // Through a symlink to "/" in the container: unpacked inside it, never on the host.
    CommandResult through =
        shell("tar -C " + source.string() + " -cf - " + marker + " | $B cp - box:/srv/escape");
    EXPECT_EQ(through.exit_code, 0) << through;
    EXPECT_FALSE(fs::exists("/" + marker)) << "written on the host";
    fs::remove("/" + marker);
    EXPECT_EQ(berth({"exec", "box", "cat", "/" + marker}).exit_code, 0);

    CommandResult not_dir = shell("tar -C " + source.string() +
                                  " -cf - sub | $B cp - "
                                  "box:/srv/site/index.html");
    EXPECT_NE(not_dir.exit_code, 0);
    EXPECT_NE(not_dir.err.find("must be a directory"), std::string::npos) << not_dir;
    CommandResult missing = shell("$B cp box:/nothing - > /dev/null");
    EXPECT_NE(missing.exit_code, 0);
    EXPECT_NE(missing.err.find("Could not find the file /nothing in container"), std::string::npos)
        << missing;
    fs::remove_all(source);

    CommandResult sized = berth({"ps", "-s", "--format", "{{.Names}} {{.Size}}"});
    EXPECT_NE(sized.out.find("box "), std::string::npos) << sized;
    EXPECT_NE(sized.out.find("B (virtual "), std::string::npos) << sized;
    CommandResult table = berth({"ps", "--size"});
    EXPECT_NE(table.out.find("SIZE"), std::string::npos) << table;
    EXPECT_EQ(berth({"rm", "-f", "box"}).exit_code, 0);
    expect_nothing_left();
}

} // namespace
