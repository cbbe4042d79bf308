// Small text helpers the integration tests use on files and command output.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace berth_test {

// Whole file contents ("" if it cannot be read).
std::string read_text(const std::filesystem::path& path);

// `text` without trailing newlines and spaces, as `berth ... -q` prints ids.
std::string trim(std::string text);

// The non-empty lines of `text`, without their '\n'.
std::vector<std::string> lines_of(const std::string& text);

} // namespace berth_test
