// What ADD and COPY sources and flags say beyond paths: remote URLs (ADD
// https://...), git repositories (refused, clearly), `--checksum=`, the
// file name a URL gives, an HTTP date (Last-Modified) and the `/./` pivot
// of COPY --parents. Pure functions, fuzzed by tests/fuzz/dockerfile_fuzz.
#pragma once

#include "berth/oci/digest.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace berth::build {

// http:// or https:// (and not a git repository).
bool is_remote_url(std::string_view source);
// git@host:repo, git://..., ssh://..., or an http(s) URL whose path ends in
// .git (optionally with a #ref): what BuildKit would clone.
bool is_git_url(std::string_view source);

// `--checksum=sha256:<64 hex>`; Error on anything else.
oci::Digest parse_checksum(std::string_view text);

// The file name the last component of the URL's path gives ("" if none):
// "https://host/a/b.tar.gz?x=1" -> "b.tar.gz".
std::string url_file_name(std::string_view url);

// An HTTP date (RFC 7231: IMF-fixdate, and the obsolete RFC 850 and asctime
// forms) as seconds since the epoch; nullopt if it is not one.
std::optional<std::int64_t> parse_http_date(std::string_view text);

// COPY --parents: a source written "base/./rest" keeps "rest" under the
// destination; without a pivot, the whole path. Returns {base, rest} of
// the cleaned path: "a/./b/c" -> {"a", "b/c"}, "a/b" -> {"", "a/b"}.
std::pair<std::string, std::string> split_parents_pivot(std::string_view source);

} // namespace berth::build
