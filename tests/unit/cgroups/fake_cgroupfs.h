// Fake cgroup trees: directories of regular files standing in for cgroupfs,
// so the cgroup logic runs without root and its writes can be read back.
// Control files are opened without O_CREAT and with O_TRUNC, so a fake file
// holds exactly the last value written to it.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <string>

namespace cgroups_test {

// Creates `directory` (and parents) with an empty file for each name.
void make_cgroup(const std::filesystem::path& directory, std::initializer_list<const char*> files);
void put(const std::filesystem::path& file, const std::string& contents);
// The file's contents without the trailing newline.
std::string contents(const std::filesystem::path& file);

} // namespace cgroups_test
