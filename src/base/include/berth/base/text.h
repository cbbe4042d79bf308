// Splitting text without iostreams: the runtime is a static binary, and
// std::istringstream alone drags the locale machinery into its memory.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace berth {

// "a,,b" → {"a", "", "b"}; "" → {}.
std::vector<std::string> split(std::string_view text, char separator);
// Lines without their '\n'; a last line without one counts too.
std::vector<std::string> split_lines(std::string_view text);
// Words separated by any run of spaces, tabs or newlines.
std::vector<std::string> split_words(std::string_view text);

} // namespace berth
