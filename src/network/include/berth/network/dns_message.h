// The few DNS message forms berth's per-network resolver needs: reading a
// query's one question, and answering it with A records (or none). Pure
// code over bytes from containers, so it is strict and fuzzed.
#pragma once

#include "berth/network/address.h"
#include "berth/network/address6.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::network {

constexpr std::uint16_t dns_type_a = 1;
constexpr std::uint16_t dns_type_aaaa = 28;
constexpr std::uint16_t dns_class_in = 1;

struct DnsQuestion {
    std::uint16_t id = 0;
    std::string name; // lower case, no trailing dot ("web", "db.example")
    std::uint16_t type = 0;
    std::uint16_t klass = 0;
    std::size_t end = 0; // where the question ends in the message
};

// The question of a standard query with exactly one; nullopt for anything
// else (responses, other opcodes, compressed or malformed names).
std::optional<DnsQuestion> parse_dns_query(std::string_view message);

// The answer to `query` (whose question is `question`): `addresses` as A
// records with `ttl`, or NXDOMAIN when `name_exists` is false. Any
// additional records of the query (EDNS) are dropped.
std::string build_dns_answer(std::string_view query, const DnsQuestion& question,
                             const std::vector<Ipv4>& addresses, bool name_exists,
                             std::uint32_t ttl = 60);
// The same with AAAA records for `addresses6` after the A records.
std::string build_dns_answer(std::string_view query, const DnsQuestion& question,
                             const std::vector<Ipv4>& addresses,
                             const std::vector<Ipv6>& addresses6, bool name_exists,
                             std::uint32_t ttl = 60);

} // namespace berth::network
