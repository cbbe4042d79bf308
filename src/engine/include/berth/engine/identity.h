// Who a container is: its 64-hex id, its name (docker-style random names
// when none is given), and the times recorded about it.
#pragma once

#include <string>
#include <string_view>

namespace berth::engine {

// 32 random bytes as 64 lowercase hex digits, as Docker's container ids.
std::string new_container_id();

// "adjective_scientist", from berth's own word lists. Callers retry on a
// collision, since two thousand-odd combinations do run out.
std::string random_container_name();

// Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (a leading "/" is accepted and dropped).
bool is_valid_container_name(std::string_view name);

// Now as RFC 3339 with nanoseconds in UTC ("2024-05-01T10:00:00.123456789Z"),
// the form Docker's inspect and json-file logs use.
std::string now_rfc3339_nano();

} // namespace berth::engine
