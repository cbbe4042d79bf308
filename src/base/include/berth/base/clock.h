// Wall-clock time as the OCI state and logs write it.
#pragma once

#include <string>

namespace berth {

// RFC 3339 in UTC with nanoseconds, as Go writes it: 2026-11-29T08:00:00.123456789Z.
std::string rfc3339_now();

} // namespace berth
