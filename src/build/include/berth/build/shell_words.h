// Variable substitution and word splitting in Dockerfile arguments, as the
// Docker builder does it for ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL,
// USER, VOLUME, WORKDIR and ARG: $VAR, ${VAR}, ${VAR:-default},
// ${VAR:+alternative}, ${VAR-default}, ${VAR+alternative}, ${VAR:?message};
// single quotes keep text literal, double quotes group words, the escape
// character escapes the next one.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::build {

// A variable's value, or nullopt when it is not set (set but empty is "").
using VariableLookup = std::function<std::optional<std::string>(const std::string&)>;

// The text as one word: variables expanded, quotes and escapes removed.
std::string expand_word(std::string_view text, const VariableLookup& lookup, char escape = '\\');

// The text split into words at unquoted blanks, each expanded as above.
std::vector<std::string> expand_words(std::string_view text, const VariableLookup& lookup,
                                      char escape = '\\');

// Only the variables expanded, quotes kept as they are (heredoc bodies).
std::string expand_variables(std::string_view text, const VariableLookup& lookup,
                             char escape = '\\');

// The text split at unquoted blanks with quotes kept, nothing expanded:
// `a="x y" b` -> {`a="x y"`, `b`}, for KEY=value lists.
std::vector<std::string> split_quoted_words(std::string_view text, char escape = '\\');

} // namespace berth::build
