// Output as Docker prints it: aligned tables, human sizes, "2 hours ago",
// and --format with Go-template-like fields ({{.Repository}}, {{json .}}).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace berth::cli {

// 1234567 -> "1.23MB" (Docker's SI units, three significant digits).
std::string human_size(std::int64_t bytes);
// RFC 3339 time -> "3 days ago", "About an hour ago"; "N/A" if unparsable.
std::string time_since(const std::string& rfc3339);
// RFC 3339 -> seconds since the epoch, or -1.
std::int64_t parse_rfc3339(const std::string& text);

// Rows of cells, columns padded to line up (Go's tabwriter with padding 3).
std::string table(const std::vector<std::vector<std::string>>& rows);

// `inspect`'s output: the items as an indented JSON array, or each through
// the --format template when one is given.
void print_inspected(const nlohmann::json& items, const std::string& format);

// A --format template: "{{.Field}}", "{{.A.B}}", "{{json .}}", "{{json .A}}",
// with "\t" and "\n" escapes. A "table " prefix asks for a header row.
class Template {
  public:
    explicit Template(std::string text);
    bool is_table() const { return table_; }
    std::string render(const nlohmann::json& row) const;
    // Column titles for a table: field names in capitals, Docker's where known.
    std::string header(const std::vector<std::pair<std::string, std::string>>& titles) const;

  private:
    struct Piece {
        bool action;
        std::string text; // literal text, or the action inside {{ }}
    };
    std::vector<Piece> pieces_;
    bool table_ = false;
};

} // namespace berth::cli
