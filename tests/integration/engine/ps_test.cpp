// ps --filter, --format, -n, -l; inspect --format; and the small commands
// (rename, top, container prune, version, info, system df).
#include "engine_fixture.hpp"

namespace {

class ListTest : public EngineTest {};

TEST_F(ListTest, FiltersAndFormats) {
    ASSERT_EQ(berth({"create", "--cgroup-parent", cgroup_parent(), "--name", "made", "-l",
                     "tier=web", "busybox", "true"})
                  .exit_code,
              0);
    ASSERT_EQ(run({"-d", "--name", "up", "-l", "tier=db", "busybox", "sleep", "30"}).exit_code, 0);
    ASSERT_EQ(run({"--name", "failed", "busybox", "sh", "-c", "exit 3"}).exit_code, 3);
    auto names = [&](std::vector<std::string> args) {
        args.insert(args.begin(), "ps");
        args.push_back("--format");
        args.push_back("{{.Names}}");
        CommandResult result = berth(args);
        EXPECT_EQ(result.exit_code, 0) << result;
        return lines_of(result.out);
    };
    using Names = std::vector<std::string>;
    EXPECT_EQ(names({}), Names({"up"}));
    EXPECT_EQ(names({"-a"}), Names({"failed", "up", "made"})) << "newest first";
    EXPECT_EQ(names({"-f", "status=exited"}), Names({"failed"}));
    EXPECT_EQ(names({"-f", "status=created", "-f", "status=exited"}), Names({"failed", "made"}))
        << "one key twice: either";
    EXPECT_EQ(names({"-a", "-f", "label=tier"}), Names({"up", "made"}));
    EXPECT_EQ(names({"-a", "-f", "label=tier=web"}), Names({"made"}));
    EXPECT_EQ(names({"-a", "-f", "label=tier", "-f", "name=ma"}), Names({"made"}))
        << "two keys: both";
    EXPECT_EQ(names({"-f", "exited=3"}), Names({"failed"}));
    EXPECT_EQ(names({"-a", "-f", "ancestor=busybox"}).size(), 3u);
    EXPECT_EQ(names({"-a", "-f", "ancestor=other"}).size(), 0u);
    std::string id = inspect("up")["Id"];
    EXPECT_EQ(names({"-f", "id=" + id.substr(0, 6)}), Names({"up"}));
    EXPECT_EQ(names({"-l"}), Names({"failed"}));
    EXPECT_EQ(names({"-n", "2"}), Names({"failed", "up"}));

    EXPECT_EQ(names({"-a", "-f", "name=^/?up$"}), Names({"up"})) << "a regular expression";
    EXPECT_EQ(names({"-a", "-f", "name=^(made|failed)$"}), Names({"failed", "made"}));
    EXPECT_NE(berth({"ps", "-f", "name=["}).exit_code, 0);
    EXPECT_EQ(names({"-a", "-f", "before=up"}), Names({"made"}));
    EXPECT_EQ(names({"-a", "-f", "since=made"}), Names({"failed", "up"}));
    EXPECT_EQ(names({"-a", "-f", "network=bridge"}).size(), 3u);
    EXPECT_EQ(names({"-a", "-f", "network=host"}), Names({}));
    ASSERT_EQ(berth({"create", "--cgroup-parent", cgroup_parent(), "--name", "mounted", "-v",
                     "/tmp:/hosttmp", "busybox", "true"})
                  .exit_code,
              0);
    EXPECT_EQ(names({"-a", "-f", "volume=/hosttmp"}), Names({"mounted"}));
    EXPECT_EQ(names({"-a", "-f", "volume=/tmp"}), Names({"mounted"})) << "a bind's source";
    EXPECT_EQ(berth({"rm", "mounted"}).exit_code, 0);

    CommandResult sized = berth({"ps", "-f", "name=up", "--format", "{{.Size}}"});
    EXPECT_NE(sized.out.find("B (virtual "), std::string::npos) << "computed when shown: " << sized;

    CommandResult ids = berth({"ps", "-q", "--no-trunc"});
    EXPECT_EQ(trim(ids.out), id);
    CommandResult as_json = berth({"ps", "-a", "-f", "name=up", "--format", "{{json .}}"});
    json row = json::parse(as_json.out);
    EXPECT_EQ(row["Names"], "up");
    EXPECT_EQ(row["Labels"], "tier=db");
    EXPECT_EQ(row["State"], "running");
    CommandResult table = berth({"ps", "--format", "table {{.Names}}\t{{.Image}}"});
    // Docker's tabwriter: cells at least 10 wide.
    EXPECT_EQ(table.out, "NAMES     IMAGE\nup        busybox\n") << table;
    CommandResult methods = berth({"ps", "-a", "--format", "{{.Names}}:{{.Label \"tier\"}}"});
    EXPECT_EQ(methods.out, "failed:\nup:db\nmade:web\n") << methods;
    CommandResult docker_fields =
        berth({"ps", "-a", "-f", "name=failed", "--format",
               "{{.Command}}|{{.Networks}}|{{.LocalVolumes}}|{{.CreatedAt}}"});
    // An argument with a space in single quotes; Go's time.String() to the second.
    EXPECT_TRUE(docker_fields.out.starts_with("\"sh -c 'exit 3'\"|bridge|0|20")) << docker_fields;
    EXPECT_NE(docker_fields.out.find(" +0000 UTC\n"), std::string::npos) << docker_fields;

    ASSERT_EQ(berth({"pause", "up"}).exit_code, 0);
    EXPECT_EQ(names({"-f", "status=paused"}), Names({"up"}));
    EXPECT_EQ(names({"-f", "status=running"}), Names({}));
    ASSERT_EQ(berth({"unpause", "up"}).exit_code, 0);
    EXPECT_EQ(names({"-f", "status=running"}), Names({"up"}));

    CommandResult bad = berth({"ps", "-f", "colour=blue"});
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE(bad.err.find("invalid filter 'colour'"), std::string::npos) << bad;
    EXPECT_NE(berth({"ps", "-f", "status=sleeping"}).exit_code, 0);

    CommandResult formatted =
        berth({"inspect", "-f", "{{.Name}} {{.State.Status}} {{json .Config.Labels}}", "up"});
    EXPECT_EQ(formatted.out, "/up running {\"tier\":\"db\"}\n");
    // The Go template forms docker users write.
    CommandResult go_forms =
        berth({"inspect", "-f",
               "{{index .Config.Labels \"tier\"}}|{{range .NetworkSettings.Networks}}{{.IPAddress}}"
               "{{end}}|{{if .State.Running}}up{{else}}down{{end}}|{{join .Config.Cmd \",\"}}",
               "up"});
    EXPECT_EQ(go_forms.exit_code, 0) << go_forms;
    EXPECT_TRUE(go_forms.out.starts_with("db|10.212.")) << go_forms;
    EXPECT_TRUE(go_forms.out.ends_with("|up|sleep,30\n")) << go_forms;
    // Fields docker's scripts read, as docker fills them.
    CommandResult fields = berth({"inspect", "-f",
                                  "{{.Platform}} {{.Config.Tty}} {{.Config.OpenStdin}} "
                                  "{{.HostConfig.Binds}} {{.HostConfig.ShmSize}} {{.ExecIDs}}",
                                  "up"});
    EXPECT_EQ(fields.out, "linux false false <no value> 67108864 <no value>\n") << fields;
    // Like docker's, inspect finds images too.
    CommandResult image = berth({"inspect", "-f", "{{.RepoTags}} {{.Os}}", "busybox"});
    EXPECT_EQ(image.out, "[busybox:latest] linux\n") << image;
    CommandResult nothing = berth({"inspect", "no-such-thing"});
    EXPECT_EQ(nothing.exit_code, 1);
    EXPECT_EQ(nothing.out, "[]\n");
    EXPECT_NE(nothing.err.find("no such object: no-such-thing"), std::string::npos) << nothing;
    CommandResult bad_template = berth({"inspect", "-f", "{{nosuch .Name}}", "up"});
    EXPECT_NE(bad_template.exit_code, 0);
    EXPECT_EQ(lines_of(bad_template.err).size(), 1u) << bad_template;
    EXPECT_EQ(berth({"rm", "-f", "made", "up", "failed"}).exit_code, 0);
    expect_nothing_left();
}

TEST_F(ListTest, RenameTopPruneAndSystemViews) {
    ASSERT_EQ(
        run({"-d", "--name", "old", "busybox", "sh", "-c", "sleep 31 & exec sleep 32"}).exit_code,
        0);
    ASSERT_EQ(berth({"create", "--name", "other", "busybox", "true"}).exit_code, 0);
    EXPECT_EQ(berth({"rename", "old", "new"}).exit_code, 0);
    EXPECT_EQ(inspect("new")["Name"], "/new");
    EXPECT_TRUE(inspect("old").is_null());
    CommandResult taken = berth({"rename", "new", "other"});
    EXPECT_NE(taken.exit_code, 0);
    EXPECT_NE(taken.err.find("already in use"), std::string::npos) << taken;
    EXPECT_NE(berth({"rename", "new", "bad name"}).exit_code, 0);

    CommandResult top = berth({"top", "new"});
    EXPECT_EQ(top.exit_code, 0) << top;
    auto lines = lines_of(top.out);
    ASSERT_EQ(lines.size(), 3u) << top;
    // Docker's table: the ps columns 20 wide, the command whole in the last.
    EXPECT_TRUE(lines[0].starts_with("UID                 PID                 PPID")) << top;
    EXPECT_TRUE(lines[1].ends_with("   sleep 31") || lines[1].ends_with("   sleep 32")) << top;
    CommandResult chosen = berth({"top", "new", "-o", "pid,args"});
    EXPECT_EQ(lines_of(chosen.out)[0], "PID                 COMMAND") << chosen;
    EXPECT_NE(top.out.find("sleep 31"), std::string::npos) << top;
    EXPECT_NE(top.out.find("sleep 32"), std::string::npos) << top;
    EXPECT_NE(berth({"top", "other"}).exit_code, 0) << "not running";
    CommandResult stopped_exec = berth({"exec", "other", "true"});
    EXPECT_EQ(stopped_exec.exit_code, 125) << stopped_exec;
    EXPECT_EQ(lines_of(stopped_exec.err).size(), 1u) << stopped_exec;

    // prune --filter, as docker's: until= (created before) and label[!]=.
    ASSERT_EQ(berth({"create", "--cgroup-parent", cgroup_parent(), "--name", "kept", "-l",
                     "keep=yes", "busybox", "true"})
                  .exit_code,
              0);
    CommandResult too_new = berth({"container", "prune", "-f", "--filter", "until=1h"});
    EXPECT_EQ(too_new.out, "Total reclaimed space: 0B\n") << too_new;
    CommandResult unlabelled = berth({"container", "prune", "-f", "--filter", "label!=keep"});
    EXPECT_EQ(unlabelled.exit_code, 0) << unlabelled;
    EXPECT_TRUE(inspect("other").is_null()) << "no keep label: pruned";
    EXPECT_FALSE(inspect("kept").is_null()) << "labelled: kept";
    EXPECT_EQ(berth({"container", "prune", "-f", "--filter", "colour=red"}).exit_code, 1);
    EXPECT_EQ(berth({"container", "prune", "-f", "--filter", "until=someday"}).exit_code, 1);
    EXPECT_FALSE(inspect("kept").is_null()) << "a bad filter prunes nothing";

    CommandResult pruned = berth({"container", "prune", "-f"});
    EXPECT_EQ(pruned.exit_code, 0) << pruned;
    EXPECT_NE(pruned.out.find("Deleted Containers:"), std::string::npos) << pruned;
    EXPECT_TRUE(inspect("kept").is_null()) << "stopped: pruned";
    EXPECT_EQ(inspect("new")["State"]["Status"], "running") << "running: kept";

    EXPECT_EQ(trim(berth({"version", "--format", "{{.Client.ApiVersion}}"}).out), "1.43");
    EXPECT_EQ(trim(berth({"info", "--format", "{{.ContainersRunning}} {{.Driver}}"}).out),
              "1 overlay");
    CommandResult df = berth({"system", "df"});
    EXPECT_EQ(df.exit_code, 0) << df;
    EXPECT_EQ(df.out.rfind("TYPE", 0), 0u) << df;
    EXPECT_NE(df.out.find("Local Volumes"), std::string::npos) << df;
    CommandResult counts = berth({"system", "df", "--format", "{{.Type}}={{.TotalCount}}"});
    EXPECT_NE(counts.out.find("Containers=1\n"), std::string::npos) << counts;
    EXPECT_EQ(berth({"rm", "-f", "new"}).exit_code, 0);
    expect_nothing_left();
}

} // namespace
