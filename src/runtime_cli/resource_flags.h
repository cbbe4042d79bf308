// runc update's flags (--memory 512m, --cpu-quota ...) as linux.resources JSON.
#pragma once

#include "arguments.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace berth::runtime_cli {

nlohmann::json resources_from_flags(const Arguments& args);

// "512m", "1g", "1024" → bytes; "-1" stays -1 (unlimited).
std::int64_t parse_bytes(const std::string& text, const char* flag);

// "5s", "250ms", "1m" → milliseconds.
int parse_duration_ms(const std::string& text);

} // namespace berth::runtime_cli
