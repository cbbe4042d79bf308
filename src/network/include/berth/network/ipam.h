// IP address management, the pure part: which address a new container on a
// subnet gets, given those already taken. The engine keeps the taken set in
// berth.db (a UNIQUE constraint, read and written in one transaction), so
// this stays free of storage and is unit tested on its own.
#pragma once

#include "berth/network/address.h"

#include <optional>
#include <set>

namespace berth::network {

// The lowest address of `subnet` after `gateway` that is neither the
// network address, the broadcast address, the gateway nor in `taken`,
// wrapping round to the start; nullopt when the subnet is full. Lowest first,
// as Docker hands them out, so addresses are predictable.
std::optional<Ipv4> next_free_address(const Subnet& subnet, Ipv4 gateway,
                                      const std::set<Ipv4>& taken);

// A /16 in 172.30-31 or 10.x that overlaps none of `in_use`; Error if all do.
Subnet pick_free_subnet(const std::set<Subnet>& in_use);

} // namespace berth::network
