// The values and functions of --format templates (go_template.h): Go's
// text/template built-ins and Docker's, over JSON values.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace berth::cli::go_template_parts {

// A template's error, at parse or at render: one line, berth::Error.
[[noreturn]] void template_error(const std::string& what);

// Go's default formatting of a value: strings bare, lists as [a b], maps
// as map[k:v], nothing as <no value>.
std::string go_text(const nlohmann::json& value);

// Go's truth: false, 0, "", empty lists and maps, and nothing are false.
bool truth(const nlohmann::json& value);

// The function `name` (index, len, printf, eq, json, join, ...) on `args`.
nlohmann::json call(const std::string& name, const std::vector<nlohmann::json>& args);

} // namespace berth::cli::go_template_parts
