// Compiled programs kept on disk, keyed by the profile itself. libseccomp
// takes milliseconds to lay out a long allow-list, and most containers start
// with the same one (berth's default, Docker's, a Kubernetes RuntimeDefault),
// so the second start of a profile reads the program back instead.
//
// A hit is decided by comparing the whole profile text, not a hash, so no
// crafted profile can be served another's program; and only a directory and
// files owned by this user and writable by no one else are trusted.
#pragma once

#include "bpf_program.h"

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>

namespace berth::runtime::seccomp {

// What a cached program must match: the profile, the libseccomp that
// compiled it, and this machine's architecture.
std::string cache_key(const nlohmann::json& seccomp);

// The program compiled for `key`, if `directory` has it and can be trusted.
std::optional<BpfProgram> read_cached_program(const std::string& directory, const std::string& key);

// Stores it for next time; a cache that cannot be written is only slower, so
// this never throws.
void write_cached_program(const std::string& directory, const std::string& key,
                          const BpfProgram& program);

} // namespace berth::runtime::seccomp
