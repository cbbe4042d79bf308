#pragma once

namespace berth::runtime_cli {

inline constexpr const char* runtime_version = "0.1.0";
inline constexpr const char* spec_version = "1.2.0";
#ifndef BERTH_GIT_COMMIT
#define BERTH_GIT_COMMIT "unknown"
#endif
inline constexpr const char* git_commit = BERTH_GIT_COMMIT;

} // namespace berth::runtime_cli
