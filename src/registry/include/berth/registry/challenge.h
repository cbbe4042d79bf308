// The WWW-Authenticate header of a registry's 401 answer (RFC 7235):
// `Bearer realm="https://auth.example/token",service="registry",scope="..."`
// or `Basic realm="..."`. Parsed strictly enough to refuse garbage, since the
// header comes from the network.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace berth::registry {

struct Challenge {
    std::string scheme;                            // lowercase: "bearer", "basic"
    std::map<std::string, std::string> parameters; // keys lowercase
};

// Every challenge in the header value (a header may offer several schemes).
// Throws Error on malformed text.
std::vector<Challenge> parse_www_authenticate(std::string_view header);

} // namespace berth::registry
