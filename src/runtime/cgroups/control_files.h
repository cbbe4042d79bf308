// Reading and writing cgroup control files ("memory.max", "cgroup.procs").
#pragma once

#include "berth/base/text.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace berth::runtime::cgroups {

// One write(2) of `value` to directory/file. Never O_CREAT: a missing file is
// a controller or knob the kernel does not offer, not something to make up.
// O_TRUNC does nothing on cgroupfs but keeps exactly the last value in a fake
// tree of regular files, which is how the tests read what was written.
// Errors read "writing VALUE to PATH: reason".
void write_control(const std::string& directory, const std::string& file, std::string_view value);

std::string read_control(const std::string& directory, const std::string& file);
// Without surrounding whitespace and the final newline.
std::string read_control_trimmed(const std::string& directory, const std::string& file);
bool has_control(const std::string& directory, const std::string& file);

// A number file; "max" (v2's "no limit") reads as UINT64_MAX.
std::uint64_t read_control_number(const std::string& directory, const std::string& file);
// "key value" lines (memory.stat, cpu.stat, memory.events); other lines are skipped.
std::map<std::string, std::uint64_t> read_keyed_control(const std::string& directory,
                                                        const std::string& file);

std::string trim(std::string_view text);

// The subdirectories (child cgroups) of `directory`; none when it is gone.
std::vector<std::string> child_cgroups(const std::string& directory);

} // namespace berth::runtime::cgroups
