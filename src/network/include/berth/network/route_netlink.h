// The link, address and route changes berth makes, as NETLINK_ROUTE requests
// on a socket of our own (no `ip` command): bridges, veth pairs with one end
// born in a container's network namespace, addresses, the default route.
// A socket belongs to the network namespace it was opened in, so one
// RouteNetlink works on one namespace.
#pragma once

#include "berth/base/unique_fd.h"
#include "berth/network/address.h"
#include "berth/network/address6.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace berth::network {

class NetlinkMessage;

class RouteNetlink {
  public:
    // On this process's network namespace.
    RouteNetlink();
    // On the namespace `netns_fd` refers to (an nsfs file, as /proc/PID/ns/net).
    explicit RouteNetlink(int netns_fd);

    // The link's index, or 0 if there is no link of that name.
    int link_index(const std::string& name);
    // A bridge, up; false if a link of that name already existed.
    bool create_bridge(const std::string& name, int mtu);
    // A veth pair: `name` here, attached to `master` (a bridge) and up; its
    // peer `peer_name` created directly in the namespace `peer_netns_fd`,
    // with the MAC address `peer_mac` when one is given.
    void create_veth(const std::string& name, const std::string& master, int mtu,
                     const std::string& peer_name, int peer_netns_fd,
                     const std::array<std::uint8_t, 6>* peer_mac = nullptr);
    // A macvlan (bridge mode) or ipvlan (L2) link on `parent`, created
    // directly in the namespace `netns_fd` as `name`, with `mac` (macvlan only).
    void create_sublink(const std::string& kind, const std::string& parent, const std::string& name,
                        int netns_fd, const std::array<std::uint8_t, 6>* mac = nullptr);
    // Brings a link up.
    void set_up(const std::string& name);
    // No IPv6 address of the kernel's making on the link (addr_gen_mode
    // none), so it sends no duplicate address detection, router solicitation
    // or MLD report when it comes up: on a bridge, each of those multicasts
    // reaches every other port, and every container's stack handles it.
    // Before the link is up (or has a carrier); a host without IPv6 is fine.
    void stop_ipv6_autoconfiguration(const std::string& name);
    // Deletes a link (a veth takes its peer with it); false if there was none.
    bool delete_link(const std::string& name);
    // Adds `address`/`prefix` to the link; an address it already has is fine.
    void add_address(const std::string& link, Ipv4 address, int prefix);
    // The default route through `gateway`.
    void add_default_route(Ipv4 gateway);
    // The same for IPv6 (usable at once: no duplicate address detection).
    void add_address6(const std::string& link, const Ipv6& address, int prefix);
    void add_default_route6(const Ipv6& gateway);
    // The subnet of every IPv4 address on this namespace's links.
    std::vector<Subnet> ipv4_subnets();
    // Names of the links whose name starts with `prefix`.
    std::vector<std::string> links_named(std::string_view prefix);

  private:
    // Sends with NLM_F_ACK and waits for the kernel's answer; the positive
    // errno it reports, or 0.
    int transact(NetlinkMessage& message);
    void request(NetlinkMessage& message, const std::string& what);
    // Every message a NLM_F_DUMP request brings back.
    std::vector<std::string> dump(NetlinkMessage& message);

    UniqueFd socket_;
    std::uint32_t sequence_ = 0;
};

} // namespace berth::network
