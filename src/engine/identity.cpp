#include "berth/engine/identity.h"

#include "berth/base/error.h"

#include <array>
#include <cstdio>
#include <ctime>
#include <sys/random.h>

namespace berth::engine {

namespace {

// Words chosen for berth; any two make a pronounceable, harmless name.
constexpr std::array adjectives = {
    "amber",  "brave",  "calm",   "clever", "cosmic", "crisp",   "daring",  "eager",  "fluent",
    "gentle", "glad",   "golden", "hardy",  "humble", "jolly",   "keen",    "kind",   "lively",
    "lucid",  "mellow", "merry",  "modest", "nimble", "noble",   "patient", "placid", "plucky",
    "polite", "proud",  "quiet",  "rapid",  "ready",  "serene",  "sharp",   "shy",    "silent",
    "sleek",  "smooth", "snappy", "solid",  "steady", "stoic",   "sunny",   "swift",  "tender",
    "tidy",   "upbeat", "vivid",  "wary",   "witty",  "zealous", "zen"};
// Scientists and engineers whose work computing stands on.
constexpr std::array surnames = {
    "agnesi",  "babbage",   "backus",       "bell",     "boole",   "cerf",       "church",
    "clarke",  "conway",    "curie",        "dijkstra", "euler",   "faraday",    "fermat",
    "feynman", "gauss",     "hamilton",     "hopper",   "huffman", "jackson",    "johnson",
    "kahan",   "knuth",     "kovalevskaya", "lamport",  "liskov",  "lovelace",   "maxwell",
    "meitner", "minsky",    "morse",        "napier",   "neumann", "noether",    "pascal",
    "perlman", "ramanujan", "ritchie",      "shannon",  "shamir",  "somerville", "stallman",
    "tesla",   "thompson",  "torvalds",     "turing",   "wirth",   "wozniak",    "yonath",
    "zuse"};

void random_bytes(void* buffer, std::size_t size) {
    auto* out = static_cast<unsigned char*>(buffer);
    while (size > 0) {
        ssize_t got = ::getrandom(out, size, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw_errno("reading random bytes for a container id");
        }
        out += got;
        size -= static_cast<std::size_t>(got);
    }
}

} // namespace

std::string new_container_id() {
    std::array<unsigned char, 32> bytes;
    random_bytes(bytes.data(), bytes.size());
    static constexpr char hex[] = "0123456789abcdef";
    std::string id;
    id.reserve(64);
    for (unsigned char byte : bytes) {
        id.push_back(hex[byte >> 4]);
        id.push_back(hex[byte & 15]);
    }
    return id;
}

std::string random_container_name() {
    std::uint32_t value;
    random_bytes(&value, sizeof value);
    return std::string(adjectives[value % adjectives.size()]) + "_" +
           surnames[(value / adjectives.size()) % surnames.size()];
}

bool is_valid_container_name(std::string_view name) {
    if (!name.empty() && name.front() == '/') name.remove_prefix(1);
    if (name.size() < 2) return false;
    auto alnum = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    };
    if (!alnum(name.front())) return false;
    for (char c : name)
        if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
    return true;
}

std::string now_rfc3339_nano() {
    timespec now;
    ::clock_gettime(CLOCK_REALTIME, &now);
    tm utc;
    ::gmtime_r(&now.tv_sec, &utc);
    char text[64];
    std::size_t n = ::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text + n, sizeof text - n, ".%09ldZ", now.tv_nsec);
    return text;
}

} // namespace berth::engine
