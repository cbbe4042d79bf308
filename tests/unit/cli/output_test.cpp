#include "output.h"

#include "berth/base/error.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>

using namespace berth::cli;

namespace {

std::string rfc3339_seconds_ago(long seconds) {
    std::time_t then = std::time(nullptr) - seconds;
    char text[64];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&then));
    return text;
}

} // namespace

TEST(Table, ColumnsLineUpWhateverTheBytesPerCharacter) {
    std::string out = table({{"COMMAND", "NAMES"}, {"\"sh -c while :; do :…\"", "a"}, {"x", "b"}});
    // "…" is three bytes and one column: every NAMES cell starts in the same column.
    EXPECT_EQ(out, "COMMAND                  NAMES\n"
                   "\"sh -c while :; do :…\"   a\n"
                   "x                        b\n");
}

TEST(TimeSince, SaysItAsDockerDoes) {
    EXPECT_EQ(time_since(rfc3339_seconds_ago(0)), "Less than a second ago");
    EXPECT_EQ(time_since(rfc3339_seconds_ago(1)), "1 second ago");
    EXPECT_EQ(time_since(rfc3339_seconds_ago(5)), "5 seconds ago");
    EXPECT_EQ(time_since(rfc3339_seconds_ago(90)), "About a minute ago");
    EXPECT_EQ(time_since(rfc3339_seconds_ago(3 * 3600)), "3 hours ago");
    EXPECT_EQ(time_since("not a time"), "N/A");
    // To the nanosecond: 0.4 s ago is less than a second, across a second's edge.
    auto now = std::chrono::system_clock::now() - std::chrono::milliseconds(400);
    std::time_t whole = std::chrono::system_clock::to_time_t(now);
    auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch() %
                                                                      std::chrono::seconds(1))
                     .count();
    char text[64];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", std::gmtime(&whole));
    char fraction[16];
    std::snprintf(fraction, sizeof fraction, ".%09lldZ", static_cast<long long>(nanos));
    EXPECT_EQ(time_since(std::string(text) + fraction), "Less than a second ago");
}

TEST(HumanSize, ThreeSignificantDigitsInSiUnits) {
    EXPECT_EQ(human_size(0), "0B");
    EXPECT_EQ(human_size(123456), "123kB");
    EXPECT_EQ(human_size(4260000), "4.26MB");
}

TEST(Template, RendersFieldsAndTables) {
    Template plain("{{.Name}}\\t{{.ID}}");
    EXPECT_FALSE(plain.is_table());
    EXPECT_EQ(plain.render({{"Name", "web"}, {"ID", "abc"}}), "web\tabc");
    Template tabled("table {{.ID}} {{json .Labels}}");
    EXPECT_TRUE(tabled.is_table());
    EXPECT_EQ(tabled.render({{"ID", "abc"}, {"Labels", {{"a", "b"}}}}), "abc {\"a\":\"b\"}");
}

TEST(Table, CellsAtLeastTenColumnsWideAsDockers) {
    // Go's tabwriter as docker sets it up: minimum width 10, padding 3.
    EXPECT_EQ(table({{"DRIVER", "VOLUME NAME"}, {"local", "v1"}}), "DRIVER    VOLUME NAME\n"
                                                                   "local     v1\n");
}

TEST(Template, IndexRangeIfWithAndVariables) {
    nlohmann::json data = {
        {"Name", "/web"},
        {"Config", {{"Labels", {{"a", "b"}, {"com.x", "y"}}}, {"Cmd", {"sleep", "10"}}}},
        {"NetworkSettings",
         {{"Networks",
           {{"bridge", {{"IPAddress", "10.0.0.2"}}}, {"n1", {{"IPAddress", "10.1.0.2"}}}}}}},
        {"State", {{"Running", true}, {"Pid", 42}, {"ExitCode", 0}}},
        {"Mounts", nlohmann::json::array()}};
    auto render = [&](const std::string& text) { return Template(text).render(data); };
    EXPECT_EQ(render(R"({{index .Config.Labels "com.x"}})"), "y");
    EXPECT_EQ(render(R"({{index .Config.Labels "missing"}})"), "");
    EXPECT_EQ(render("{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"),
              "10.0.0.2 10.1.0.2 ");
    EXPECT_EQ(
        render("{{range $name, $net := .NetworkSettings.Networks}}{{$name}}={{$net.IPAddress}};"
               "{{end}}"),
        "bridge=10.0.0.2;n1=10.1.0.2;");
    EXPECT_EQ(render("{{range .Mounts}}m{{else}}none{{end}}"), "none");
    EXPECT_EQ(render("{{if .State.Running}}up {{.State.Pid}}{{else}}down{{end}}"), "up 42");
    EXPECT_EQ(render("{{if eq .State.ExitCode 1}}one{{else if eq .State.ExitCode 0}}zero{{end}}"),
              "zero");
    EXPECT_EQ(render("{{with .State}}{{.Pid}}{{end}}"), "42");
    EXPECT_EQ(render("{{$n := .Name}}{{range .Config.Cmd}}{{$n}}:{{.}} {{end}}"),
              "/web:sleep /web:10 ");
    EXPECT_EQ(render(R"({{join .Config.Cmd " "}}|{{upper .Name}}|{{len .Config.Cmd}})"),
              "sleep 10|/WEB|2");
    EXPECT_EQ(render(R"({{.State.Pid | printf "%5d"}}|{{printf "%-4s|" "ab"}})"), "   42|ab  |");
    EXPECT_EQ(render("{{json .Config.Labels}}"), R"({"a":"b","com.x":"y"})");
    EXPECT_EQ(render("{{println .Name}}"), "/web\n");
    EXPECT_EQ(render("a {{- /* comment */ -}}  b"), "ab");
    EXPECT_EQ(render(R"({{(index .Config.Cmd 1)}})"), "10");
    EXPECT_EQ(render(R"({{split "a,b" ","}})"), "[a b]");
}

TEST(Template, MethodsTakeAKeyAndErrorsAreOneLine) {
    Template label(R"(table {{.Names}}\t{{.Label "com.x"}})");
    EXPECT_EQ(label.render({{"Names", "web"}}, {{"Label", {{"com.x", "1"}}}}), "web\t1");
    EXPECT_EQ(label.header({}), "NAMES\tcom.x");
    EXPECT_THROW(Template("{{.A"), berth::Error);
    EXPECT_THROW(Template("{{if .A}}x"), berth::Error);
    EXPECT_THROW(Template("{{end}}"), berth::Error);
    EXPECT_THROW(Template("{{nosuch .A}}").render({{"A", 1}}), berth::Error);
    EXPECT_THROW(Template("{{.Missing}}").render({{"A", 1}}), berth::Error);
    EXPECT_THROW(Template("{{range .A}}{{end}}").render({{"A", 1}}), berth::Error);
    EXPECT_THROW(Template("{{" + std::string(500, '(') + "1" + std::string(500, ')') + "}}"),
                 berth::Error);
}
