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
        return split_lines(result.out);
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

    CommandResult ids = berth({"ps", "-q", "--no-trunc"});
    EXPECT_EQ(trim(ids.out), id);
    CommandResult as_json = berth({"ps", "-a", "-f", "name=up", "--format", "{{json .}}"});
    json row = json::parse(as_json.out);
    EXPECT_EQ(row["Names"], "up");
    EXPECT_EQ(row["Labels"], "tier=db");
    EXPECT_EQ(row["State"], "running");
    CommandResult table = berth({"ps", "--format", "table {{.Names}}\t{{.Image}}"});
    EXPECT_EQ(table.out, "NAMES   IMAGE\nup      busybox\n") << table;

    CommandResult bad = berth({"ps", "-f", "colour=blue"});
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE(bad.err.find("invalid filter 'colour'"), std::string::npos) << bad;
    EXPECT_NE(berth({"ps", "-f", "status=sleeping"}).exit_code, 0);

    CommandResult formatted =
        berth({"inspect", "-f", "{{.Name}} {{.State.Status}} {{json .Config.Labels}}", "up"});
    EXPECT_EQ(formatted.out, "/up running {\"tier\":\"db\"}\n");
    EXPECT_EQ(berth({"rm", "-f", "made", "up", "failed"}).exit_code, 0);
    expect_nothing_left();
}

} // namespace
