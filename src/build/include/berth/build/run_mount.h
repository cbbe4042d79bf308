// `RUN --mount=...` and `build --secret ...`, as BuildKit writes them: a
// comma-separated list of key=value options (a bare key is `key=true`).
// Pure parsing, after variable expansion; the builder gives the mounts
// their sources. Fuzzed by tests/fuzz/dockerfile_fuzz.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth::build {

struct RunMount {
    enum class Type { bind, cache, tmpfs, secret };
    Type type = Type::bind;
    std::string target;             // as written: absolute, or relative to WORKDIR
    std::string source;             // bind/cache: a path in `from` (or the context)
    std::string from;               // bind/cache: a stage or an image; "" for the context
    std::string id;                 // cache: defaults to the target; secret: to the target's name
    bool read_only = false;         // bind: true unless rw; cache: false unless ro
    std::string sharing = "shared"; // cache: shared, private or locked
    std::optional<std::uint32_t> uid, gid, mode;
    bool required = false;            // secret: a missing one fails instead of being skipped
    std::optional<std::int64_t> size; // tmpfs: bytes
};

// Error with what is wrong (unknown key, bad value, a missing target).
RunMount parse_run_mount(std::string_view text);

// The mount as one canonical line, for the cache key.
std::string describe(const RunMount& mount);

struct SecretSource {
    std::string id;
    std::string path; // a file on the host
};

// `--secret id=name,src=/path` (also source=, and type=file); with no src,
// Docker's rule is to use env= or the id as an environment variable: berth
// takes files only, so src is required.
SecretSource parse_secret_flag(std::string_view text);

} // namespace berth::build
