// -v, --mount, --tmpfs, --read-only, `berth volume`, and the other flags of
// the request's ContainerOptions (--env-file, --ulimit, --group-add, labels,
// cgroup knobs): what the container sees, what is left, and bad input.
#include "engine_fixture.hpp"

namespace {

class VolumeTest : public EngineTest {
  protected:
    static fs::path scratch() { return dir_->path() / "scratch"; }

    void SetUp() override { fs::create_directories(scratch()); }

    void expect_no_volumes() {
        EXPECT_EQ(trim(berth({"volume", "ls", "-q"}).out), "") << "a volume";
        std::error_code ignored;
        EXPECT_TRUE(!fs::exists(root() / "volumes") || fs::is_empty(root() / "volumes"))
            << "volume files";
    }
};

TEST_F(VolumeTest, BindMountsAsDocker) {
    fs::create_directories(scratch() / "host");
    std::ofstream(scratch() / "host" / "file") << "from the host\n";
    CommandResult read_only =
        run({"--rm", "-v", (scratch() / "host").string() + ":/h:ro", "busybox", "sh", "-c",
             "cat /h/file; touch /h/x || echo denied"});
    EXPECT_EQ(read_only.exit_code, 0) << read_only;
    EXPECT_EQ(read_only.out, "from the host\ndenied\n") << read_only;
    EXPECT_FALSE(fs::exists(scratch() / "host" / "x"));

    CommandResult writable =
        run({"--rm", "--mount", "type=bind,source=" + (scratch() / "host").string() + ",target=/w",
             "busybox", "sh", "-c", "echo written > /w/out"});
    EXPECT_EQ(writable.exit_code, 0) << writable;
    EXPECT_EQ(read_text(scratch() / "host" / "out"), "written\n");

    // -v makes a missing source; --mount refuses it and makes nothing.
    CommandResult made =
        run({"--rm", "-v", (scratch() / "made").string() + ":/m", "busybox", "true"});
    EXPECT_EQ(made.exit_code, 0) << made;
    EXPECT_TRUE(fs::is_directory(scratch() / "made"));
    CommandResult refused =
        run({"--mount", "type=bind,src=" + (scratch() / "absent").string() + ",dst=/a", "busybox",
             "true"});
    EXPECT_EQ(refused.exit_code, 125) << refused;
    EXPECT_NE(refused.err.find("bind source path does not exist"), std::string::npos) << refused;
    EXPECT_FALSE(fs::exists(scratch() / "absent"));
    expect_nothing_left();
}

TEST_F(VolumeTest, NamedVolumeIsFilledFromTheImageAndOutlivesItsContainer) {
    CommandResult first =
        run({"--rm", "-v", "conf:/etc", "busybox", "sh", "-c", "ls /etc; echo kept > /etc/note"});
    EXPECT_EQ(first.exit_code, 0) << first;
    EXPECT_NE(first.out.find("passwd"), std::string::npos) << "copied from the image: " << first;
    fs::path data = root() / "volumes" / "conf" / "_data";
    EXPECT_EQ(read_text(data / "note"), "kept\n");
    EXPECT_NE(read_text(data / "passwd").find("nobody"), std::string::npos);

    CommandResult second = run({"--rm", "-v", "conf:/data:ro", "busybox", "sh", "-c",
                                "cat /data/note; touch /data/y 2>/dev/null || echo ro"});
    EXPECT_EQ(second.out, "kept\nro\n") << second;

    json volume = json::parse(berth({"volume", "inspect", "conf"}).out)[0];
    EXPECT_EQ(volume["Name"], "conf");
    EXPECT_EQ(volume["Driver"], "local");
    EXPECT_EQ(volume["Mountpoint"], data.string());
    EXPECT_EQ(berth({"inspect", "-f", "{{.Mountpoint}}", "conf"}).out, data.string() + "\n")
        << "inspect finds volumes too";
    EXPECT_NE(berth({"volume", "create", "bad name"}).exit_code, 0);

    // In use by a container (even a stopped one): refused, as Docker.
    ASSERT_EQ(berth({"create", "--name", "user", "-v", "conf:/c", "busybox", "true"}).exit_code, 0);
    EXPECT_EQ(inspect("user")["HostConfig"]["Binds"], json({"conf:/c"})) << "docker's Binds";
    json mounts = inspect("user")["Mounts"];
    ASSERT_EQ(mounts.size(), 1u);
    EXPECT_EQ(mounts[0]["Name"], "conf");
    EXPECT_EQ(mounts[0]["Destination"], "/c");
    // ls's filters, as docker's: in use or not, name, label.
    ASSERT_EQ(berth({"volume", "create", "--label", "tier=db", "spare"}).exit_code, 0);
    auto listed = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"volume", "ls", "-q"});
        CommandResult result = berth(args);
        EXPECT_EQ(result.exit_code, 0) << result;
        return lines_of(result.out);
    };
    using Names = std::vector<std::string>;
    EXPECT_EQ(listed({"-f", "dangling=true"}), Names({"spare"}));
    EXPECT_EQ(listed({"-f", "dangling=false"}), Names({"conf"}));
    EXPECT_EQ(listed({"-f", "label=tier=db"}), Names({"spare"}));
    EXPECT_EQ(listed({"-f", "name=con"}), Names({"conf"}));
    EXPECT_NE(berth({"volume", "ls", "-f", "colour=red"}).exit_code, 0);
    CommandResult labelled =
        berth({"volume", "ls", "--format", "table {{.Name}}\t{{.Label \"tier\"}}"});
    EXPECT_EQ(labelled.out, "VOLUME NAME   tier\nconf          \nspare         db\n") << labelled;
    EXPECT_EQ(berth({"volume", "rm", "spare"}).exit_code, 0);

    CommandResult in_use = berth({"volume", "rm", "conf"});
    EXPECT_EQ(in_use.exit_code, 1) << in_use;
    EXPECT_NE(in_use.err.find("volume is in use"), std::string::npos) << in_use;
    EXPECT_TRUE(fs::exists(data / "note"));
    EXPECT_EQ(berth({"rm", "-v", "user"}).exit_code, 0) << "-v leaves named volumes";
    EXPECT_EQ(trim(berth({"volume", "ls", "-q"}).out), "conf");
    CommandResult removed = berth({"volume", "rm", "conf"});
    EXPECT_EQ(removed.exit_code, 0) << removed;
    EXPECT_EQ(berth({"volume", "rm", "conf"}).exit_code, 1) << "gone";
    EXPECT_EQ(berth({"volume", "rm", "-f", "conf"}).exit_code, 0);
    expect_no_volumes();
    expect_nothing_left();
}

TEST_F(VolumeTest, AnonymousVolumesGoWithRmVAndWithRm) {
    CommandResult kept = run(
        {"-d", "--name", "anon", "-v", "/scratch", "busybox", "sh", "-c", "echo x > /scratch/f"});
    ASSERT_EQ(kept.exit_code, 0) << kept;
    EXPECT_EQ(trim(berth({"wait", "anon"}).out), "0");
    auto names = lines_of(berth({"volume", "ls", "-q"}).out);
    ASSERT_EQ(names.size(), 1u);
    EXPECT_EQ(names[0].size(), 64u) << "a random name, as Docker's";
    EXPECT_EQ(read_text(root() / "volumes" / names[0] / "_data" / "f"), "x\n");
    EXPECT_EQ(berth({"rm", "-v", "anon"}).exit_code, 0);
    expect_no_volumes();

    EXPECT_EQ(
        run({"--rm", "--mount", "type=volume,target=/v", "busybox", "touch", "/v/f"}).exit_code, 0);
    expect_no_volumes();

    // prune: anonymous volumes by default, named ones with -a.
    ASSERT_EQ(berth({"volume", "create", "named"}).exit_code, 0);
    ASSERT_EQ(berth({"volume", "create"}).exit_code, 0);
    CommandResult pruned = berth({"volume", "prune", "-f"});
    EXPECT_EQ(pruned.exit_code, 0) << pruned;
    EXPECT_EQ(trim(berth({"volume", "ls", "-q"}).out), "named");
    std::ofstream(root() / "volumes" / "named" / "_data" / "kb") << std::string(2000, 'x');
    CommandResult all = berth({"volume", "prune", "-f", "-a"});
    EXPECT_EQ(all.out, "Deleted Volumes:\nnamed\n\nTotal reclaimed space: 2kB\n") << all;
    expect_no_volumes();
    CommandResult nothing = berth({"volume", "prune", "-f"});
    EXPECT_EQ(nothing.out, "Total reclaimed space: 0B\n") << "docker's line, even for none";
    expect_nothing_left();
}

TEST_F(VolumeTest, TmpfsAndReadOnlyRoot) {
    CommandResult result = run(
        {"--rm", "--read-only", "--tmpfs", "/t:size=1m", "--mount",
         "type=tmpfs,target=/m,tmpfs-size=2m", "-v", "/anon", "busybox", "sh", "-c",
         "touch /t/a /m/a /anon/a && echo writable; touch /x 2>/dev/null || echo read-only; "
         "grep ' /t ' /proc/mounts | cut -d' ' -f2-4; grep ' /m ' /proc/mounts | cut -d' ' -f2-4"});
    EXPECT_EQ(result.exit_code, 0) << result;
    EXPECT_EQ(result.out,
              "writable\nread-only\n/t tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k\n"
              "/m tmpfs rw,nosuid,nodev,noexec,relatime,size=2048k\n")
        << result;
    expect_no_volumes();
    expect_nothing_left();
}

// An image whose /data is a symlink to /etc (and /up climbs with ../.. to
// /root) must get the volume and the bind inside its own root, never the host's.
TEST_F(VolumeTest, SymlinkTargetsInTheImageDoNotEscape) {
    fs::path image = scratch() / "image";
    fs::create_directories(image / "bin");
    fs::create_directories(image / "etc");
    fs::copy_file("/bin/busybox", image / "bin" / "busybox");
    fs::create_symlink("busybox", image / "bin" / "sh");
    std::ofstream(image / "etc" / "passwd") << "root:x:0:0:image-root:/:/bin/sh\n";
    fs::create_symlink("/etc", image / "data");
    fs::create_symlink("../../../../../../../../root", image / "up");
    fs::path layer = scratch() / "layer.tar";
    ASSERT_EQ(run_command({"tar", "-C", image.string(), "-cf", layer.string(), "."}).exit_code, 0);
    CommandResult imported = berth({"import", "--change", "CMD [\"/bin/sh\"]", "--message",
                                    "symlinks", layer.string(), "linky:latest"});
    ASSERT_EQ(imported.exit_code, 0) << imported;

    std::string host_passwd = read_text("/etc/passwd");
    CommandResult result =
        run({"--rm", "-v", "linkvol:/data", "-v", (scratch() / "bound").string() + ":/up", "linky",
             "/bin/busybox", "sh", "-c",
             "echo escaped > /data/berth-escape-test; "
             "echo escaped > /up/berth-escape-test2"});
    EXPECT_EQ(result.exit_code, 0) << result;
    EXPECT_FALSE(fs::exists("/etc/berth-escape-test")) << "the volume landed on the host's /etc";
    EXPECT_FALSE(fs::exists("/root/berth-escape-test2")) << "the bind landed on the host's /root";
    ::unlink("/etc/berth-escape-test");
    ::unlink("/root/berth-escape-test2");
    EXPECT_EQ(read_text("/etc/passwd"), host_passwd);
    fs::path data = root() / "volumes" / "linkvol" / "_data";
    EXPECT_EQ(read_text(data / "passwd"), "root:x:0:0:image-root:/:/bin/sh\n")
        << "filled from the image's /etc, not the host's";
    EXPECT_EQ(read_text(data / "berth-escape-test"), "escaped\n");
    EXPECT_EQ(read_text(scratch() / "bound" / "berth-escape-test2"), "escaped\n");
    EXPECT_EQ(berth({"volume", "rm", "linkvol"}).exit_code, 0);
    EXPECT_EQ(berth({"rmi", "linky"}).exit_code, 0);
    expect_nothing_left();
}

TEST_F(VolumeTest, MoreFlagsReachTheContainer) {
    std::ofstream(scratch() / "env") << "# a comment\nA=from-file\n\nB=two words\nHOME_FROM_HOST\n";
    ::setenv("HOME_FROM_HOST", "yes", 1);
    CommandResult result =
        run({"--rm", "--env-file", (scratch() / "env").string(), "-e", "A=from-flag", "--ulimit",
             "nofile=100:200", "--ulimit", "nproc=50", "--group-add", "1234", "--group-add",
             "nobody", "busybox", "sh", "-c",
             "echo $A; echo $B; echo $HOME_FROM_HOST; ulimit -n; ulimit -Hn; ulimit -u; id -G"});
    ::unsetenv("HOME_FROM_HOST");
    EXPECT_EQ(result.exit_code, 0) << result;
    EXPECT_EQ(result.out, "from-flag\ntwo words\nyes\n100\n200\n50\n0 1234 65534\n") << result;

    std::ofstream(scratch() / "labels") << "# labels\nfrom=file\ntier=overridden\n";
    CommandResult created =
        berth({"create", "--cgroup-parent", cgroup_parent(), "--name", "labelled", "--label-file",
               (scratch() / "labels").string(), "-l", "tier=web", "--label", "empty", "--restart",
               "on-failure:3", "busybox", "true"});
    ASSERT_EQ(created.exit_code, 0) << created;
    json state = inspect("labelled");
    EXPECT_EQ(state["Config"]["Labels"], json({{"tier", "web"}, {"empty", ""}, {"from", "file"}}))
        << "-l wins over --label-file";
    EXPECT_EQ(state["HostConfig"]["RestartPolicy"]["Name"], "on-failure");
    EXPECT_EQ(state["HostConfig"]["RestartPolicy"]["MaximumRetryCount"], 3);
    EXPECT_EQ(berth({"rm", "labelled"}).exit_code, 0);

    // The cgroup knobs, read where the container's cgroup files are (v1 or v2).
    CommandResult limits = run({"--rm", "--memory", "64m", "--memory-swap", "128m", "--cpu-shares",
                                "512", "--cpuset-cpus", "0", "busybox", "sh", "-c",
                                "cd /sys/fs/cgroup; if [ -d cpu ]; then cat cpu/cpu.shares "
                                "cpuset/cpuset.cpus memory/memory.memsw.limit_in_bytes 2>&1; "
                                "else cat cpu.weight cpuset.cpus memory.swap.max; fi"});
    EXPECT_EQ(limits.exit_code, 0) << limits;
    auto lines = lines_of(limits.out);
    ASSERT_GE(lines.size(), 3u) << limits;
    EXPECT_TRUE(lines[0] == "512" || lines[0] == "20") << limits; // v2: shares 512 -> weight 20
    EXPECT_EQ(lines[1], "0");
    EXPECT_TRUE(lines[2] == "134217728" || lines[2] == "67108864" ||
                lines[2].find("No such file") != std::string::npos)
        << limits; // v2's swap.max is swap alone; v1 without swap accounting has no memsw
    expect_nothing_left();
}

TEST_F(VolumeTest, BadInputIsRefusedWithNothingLeft) {
    const std::vector<std::vector<std::string>> bad = {
        {"-v", "bad name:/x", "busybox", "true"},
        {"-v", "vol:relative", "busybox", "true"},
        {"-v", "/a:/b:rx", "busybox", "true"},
        {"--mount", "type=nfs,target=/x", "busybox", "true"},
        {"--mount", "type=volume,source=v,target=/x,color=blue", "busybox", "true"},
        {"--mount", "type=bind,target=/x", "busybox", "true"},
        {"--tmpfs", "relative", "busybox", "true"},
        {"-v", "dup:/x", "--tmpfs", "/x", "busybox", "true"},
        {"--ulimit", "nofile=abc", "busybox", "true"},
        {"--ulimit", "nofile=1:99999999999", "busybox", "true"},
        {"--ulimit", "bogus=1", "busybox", "true"},
        {"--restart", "sometimes", "busybox", "true"},
        {"--restart", "always:3", "busybox", "true"},
        {"--rm", "--restart", "always", "busybox", "true"},
        {"--memory-swap", "128m", "busybox", "true"},
        {"--memory", "128m", "--memory-swap", "64m", "busybox", "true"},
        {"--cpuset-cpus", "zero", "busybox", "true"},
        {"--env-file", "/nonexistent/env", "busybox", "true"},
        // Docker's checks of values the flag parser accepts.
        {"--stop-signal", "SIGNOPE", "busybox", "true"},
        {"--cpus", "0.001", "busybox", "true"},
        {"--cpus", "100000", "busybox", "true"},
        {"--memory", "2m", "busybox", "true"},
        {"--no-such-flag", "busybox", "true"},
        // Found after the monitor was forked (it must leave unstarted).
        {"--pull", "never", "no-such-image", "true"},
        // Found only with the rootfs mounted: all of it must be undone.
        {"-v", "made-then-undone:/x", "--group-add", "no-such-group", "busybox", "true"},
    };
    for (const auto& args : bad) {
        CommandResult result = run(args);
        std::string joined;
        for (const auto& arg : args)
            joined += arg + " ";
        EXPECT_EQ(result.exit_code, 125) << joined << result;
        EXPECT_EQ(lines_of(result.err).size(), 1u) << "one line: " << joined << result;
        EXPECT_EQ(result.out, "") << joined;
    }
    expect_no_volumes();
    expect_nothing_left();
}

} // namespace
