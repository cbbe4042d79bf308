// Output as Docker prints it: aligned tables, human sizes, "2 hours ago",
// and --format with Go-template-like fields ({{.Repository}}, {{json .}}).
#pragma once

#include "go_template.h"

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

// RFC 3339 with any fraction -> seconds since the epoch; NaN if unparsable.
double seconds_of_rfc3339(const std::string& text);
// docker's --since/--until/until= values: RFC 3339, a Unix time
// ("1700000000.5"), or a duration before now ("10m", "1h30m"); errors name `flag`.
double parse_time_bound(const std::string& text, const char* flag);

// Rows of cells, columns padded to line up (Go's tabwriter as Docker sets it
// up: cells at least 10 wide, padding 3).
// `top`'s are 20 wide.
std::string table(const std::vector<std::vector<std::string>>& rows, std::size_t min_width = 10);

// Rows through a --format template: a line each, or for "table ..." a
// header (`titles` as Template::header) and the columns the tabs delimit
// lined up. `methods[i]` is row i's, as Template::render takes them.
std::string format_rows(const Template& format, const std::vector<nlohmann::json>& rows,
                        const std::vector<std::pair<std::string, std::string>>& titles,
                        const std::vector<nlohmann::json>& methods = {});

// `inspect`'s output: the items as an indented JSON array, or each through
// the --format template when one is given.
void print_inspected(const nlohmann::json& items, const std::string& format);

} // namespace berth::cli
