// --format as Docker's: the part of Go's text/template that docker users
// write, run over the JSON of what a command shows.
//
// Supported: {{.Field.Sub}}, {{.}}, {{$}}, {{$var.Field}}, string, number and
// boolean literals, pipelines (a | b), parentheses, {{- and -}} trimming,
// {{/* comments */}}, {{range}} (with `$i, $v :=`), {{if}}, {{with}},
// {{else}}, {{else if}}, {{end}}, {{$x := ...}}; Go's functions index, len,
// print, printf (%s %d %v %q), println, eq, ne, lt, le, gt, ge, and, or, not,
// and Docker's json, join, split, lower, upper, title, pad, truncate. A field
// given arguments ({{.Label "com.x"}}) indexes the map it names. "\t" and
// "\n" in the text are a tab and a newline; a "table " prefix asks for a
// header row. Errors (at parse or at render) are berth::Error, one line.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace berth::cli {

class Template {
  public:
    explicit Template(std::string text);
    bool is_table() const { return table_; }
    // `methods`: maps that a field given a key reads, as {{.Label "k"}} reads
    // methods["Label"] (kept apart from the data, which {{json .}} shows).
    std::string render(const nlohmann::json& data,
                       const nlohmann::json& methods = nlohmann::json::object()) const;
    // Column titles for a table: each action's field name in capitals, or
    // the title given for it (e.g. {"ID", "CONTAINER ID"}).
    std::string header(const std::vector<std::pair<std::string, std::string>>& titles) const;

    struct Node;

  private:
    std::shared_ptr<const std::vector<Node>> nodes_;
    bool table_ = false;
};

} // namespace berth::cli
