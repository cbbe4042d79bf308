#include "berth/network/route_netlink.h"

#include "berth/base/error.h"
#include "berth/network/netlink_message.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <sys/socket.h>
#include <thread>

namespace berth::network {

namespace {
// IFLA_IPVLAN_MODE is a u16.
const std::uint16_t ipvlan_l2 = IPVLAN_MODE_L2;
} // namespace

namespace {

UniqueFd open_route_socket() {
    int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) throw_errno("opening a netlink socket");
    UniqueFd socket(fd);
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (::bind(socket.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) < 0)
        throw_errno("binding a netlink socket");
    // Large enough for a dump of many links in one read.
    int size = 1 << 20;
    ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    return socket;
}

ifinfomsg link_header(int index = 0) {
    ifinfomsg header{};
    header.ifi_family = AF_UNSPEC;
    header.ifi_index = index;
    return header;
}

} // namespace

RouteNetlink::RouteNetlink() : socket_(open_route_socket()) {}

RouteNetlink::RouteNetlink(int netns_fd) {
    // A socket lives in the namespace of the thread that opened it: open it
    // from a thread that joined the namespace, and leave ours untouched.
    std::string failure;
    std::thread opener([&] {
        try {
            if (::setns(netns_fd, CLONE_NEWNET) < 0)
                throw_errno("joining the container's network namespace");
            socket_ = open_route_socket();
        } catch (const Error& error) {
            failure = error.what();
        }
    });
    opener.join();
    if (!failure.empty()) fail(failure);
}

int RouteNetlink::transact(NetlinkMessage& message) {
    message.add_flags(NLM_F_ACK);
    message.set_sequence(++sequence_);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    auto bytes = message.bytes();
    if (::sendto(socket_.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
                 sizeof kernel) < 0)
        return errno;
    std::string buffer(64 * 1024, '\0');
    for (;;) {
        ssize_t got = ::recv(socket_.get(), buffer.data(), buffer.size(), 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        for (const auto& reply : parse_replies({buffer.data(), static_cast<std::size_t>(got)}))
            if (reply.sequence == sequence_ && reply.type == NLMSG_ERROR) return reply.error;
    }
}

void RouteNetlink::request(NetlinkMessage& message, const std::string& what) {
    if (int error = transact(message)) throw_errno(what, error);
}

std::vector<std::string> RouteNetlink::dump(NetlinkMessage& message) {
    message.set_sequence(++sequence_);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    auto bytes = message.bytes();
    if (::sendto(socket_.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
                 sizeof kernel) < 0)
        throw_errno("sending a netlink dump request");
    std::vector<std::string> messages;
    std::string buffer(1 << 20, '\0');
    for (;;) {
        ssize_t got = ::recv(socket_.get(), buffer.data(), buffer.size(), 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw_errno("reading a netlink dump");
        }
        for (const auto& reply : parse_replies({buffer.data(), static_cast<std::size_t>(got)})) {
            if (reply.sequence != sequence_) continue;
            if (reply.type == NLMSG_DONE) return messages;
            if (reply.type == NLMSG_ERROR) {
                if (reply.error) throw_errno("netlink dump", reply.error);
                return messages;
            }
            messages.emplace_back(reply.payload);
        }
    }
}

int RouteNetlink::link_index(const std::string& name) {
    NetlinkMessage message(RTM_GETLINK, 0);
    message.header(link_header()).attribute(IFLA_IFNAME, name);
    message.set_sequence(++sequence_);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    auto bytes = message.bytes();
    if (::sendto(socket_.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
                 sizeof kernel) < 0)
        throw_errno("asking for link " + name);
    std::string buffer(64 * 1024, '\0');
    for (;;) {
        ssize_t got = ::recv(socket_.get(), buffer.data(), buffer.size(), 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw_errno("reading link " + name);
        }
        for (const auto& reply : parse_replies({buffer.data(), static_cast<std::size_t>(got)})) {
            if (reply.sequence != sequence_) continue;
            if (reply.type == NLMSG_ERROR) {
                if (reply.error == ENODEV) return 0;
                throw_errno("asking for link " + name, reply.error);
            }
            if (reply.type == RTM_NEWLINK && reply.payload.size() >= sizeof(ifinfomsg)) {
                ifinfomsg info;
                std::memcpy(&info, reply.payload.data(), sizeof info);
                return info.ifi_index;
            }
        }
    }
}

bool RouteNetlink::create_bridge(const std::string& name, int mtu) {
    ifinfomsg header = link_header();
    header.ifi_flags = IFF_UP;
    header.ifi_change = IFF_UP;
    NetlinkMessage message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    message.header(header).attribute(IFLA_IFNAME, name);
    if (mtu > 0) message.attribute_u32(IFLA_MTU, static_cast<std::uint32_t>(mtu));
    auto info = message.begin_nested(IFLA_LINKINFO);
    message.attribute(IFLA_INFO_KIND, "bridge");
    message.end_nested(info);
    int error = transact(message);
    if (error == EEXIST) return false;
    if (error) throw_errno("creating bridge " + name, error);
    return true;
}

void RouteNetlink::create_veth(const std::string& name, const std::string& master, int mtu,
                               const std::string& peer_name, int peer_netns_fd,
                               const std::array<std::uint8_t, 6>* peer_mac) {
    int master_index = link_index(master);
    if (master_index == 0) fail("creating veth " + name + ": no bridge " + master);
    ifinfomsg header = link_header();
    header.ifi_flags = IFF_UP;
    header.ifi_change = IFF_UP;
    NetlinkMessage message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    message.header(header).attribute(IFLA_IFNAME, name);
    message.attribute_u32(IFLA_MASTER, static_cast<std::uint32_t>(master_index));
    if (mtu > 0) message.attribute_u32(IFLA_MTU, static_cast<std::uint32_t>(mtu));
    auto info = message.begin_nested(IFLA_LINKINFO);
    message.attribute(IFLA_INFO_KIND, "veth");
    auto data = message.begin_nested(IFLA_INFO_DATA);
    auto peer = message.begin_nested(VETH_INFO_PEER);
    // The peer's own ifinfomsg, then its attributes.
    message.raw(link_header());
    message.attribute(IFLA_IFNAME, peer_name);
    message.attribute_u32(IFLA_NET_NS_FD, static_cast<std::uint32_t>(peer_netns_fd));
    if (peer_mac) message.attribute(IFLA_ADDRESS, peer_mac->data(), peer_mac->size());
    if (mtu > 0) message.attribute_u32(IFLA_MTU, static_cast<std::uint32_t>(mtu));
    message.end_nested(peer);
    message.end_nested(data);
    message.end_nested(info);
    int error = transact(message);
    // EXFULL says nothing to a user: a Linux bridge takes 1023 ports at most.
    if (error == EXFULL)
        fail("creating veth pair " + name + " / " + peer_name + ": bridge " + master +
             " has the most ports the kernel allows (1023): put more containers on another "
             "network");
    if (error) throw_errno("creating veth pair " + name + " / " + peer_name, error);
}

void RouteNetlink::create_sublink(const std::string& kind, const std::string& parent,
                                  const std::string& name, int netns_fd,
                                  const std::array<std::uint8_t, 6>* mac) {
    int parent_index = link_index(parent);
    if (parent_index == 0) fail("creating " + kind + " " + name + ": no parent link " + parent);
    NetlinkMessage message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    message.header(link_header()).attribute(IFLA_IFNAME, name);
    message.attribute_u32(IFLA_LINK, static_cast<std::uint32_t>(parent_index));
    message.attribute_u32(IFLA_NET_NS_FD, static_cast<std::uint32_t>(netns_fd));
    if (mac && kind == "macvlan") message.attribute(IFLA_ADDRESS, mac->data(), mac->size());
    auto info = message.begin_nested(IFLA_LINKINFO);
    message.attribute(IFLA_INFO_KIND, kind);
    auto data = message.begin_nested(IFLA_INFO_DATA);
    if (kind == "macvlan")
        message.attribute_u32(IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE);
    else
        message.attribute(IFLA_IPVLAN_MODE, &ipvlan_l2, sizeof ipvlan_l2);
    message.end_nested(data);
    message.end_nested(info);
    request(message, "creating " + kind + " " + name + " on " + parent);
}

void RouteNetlink::set_up(const std::string& name) {
    int index = link_index(name);
    if (index == 0) fail("bringing up " + name + ": no such link");
    ifinfomsg header = link_header(index);
    header.ifi_flags = IFF_UP;
    header.ifi_change = IFF_UP;
    NetlinkMessage message(RTM_NEWLINK, 0);
    message.header(header);
    request(message, "bringing up " + name);
}

void RouteNetlink::stop_ipv6_autoconfiguration(const std::string& name) {
    int index = link_index(name);
    if (index == 0) fail("turning IPv6 autoconfiguration off on " + name + ": no such link");
    NetlinkMessage message(RTM_NEWLINK, 0);
    message.header(link_header(index));
    auto af_spec = message.begin_nested(IFLA_AF_SPEC);
    auto inet6 = message.begin_nested(AF_INET6);
    message.attribute_u8(IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
    message.end_nested(inet6);
    message.end_nested(af_spec);
    int error = transact(message);
    // No IPv6 in this kernel (ipv6.disable=1): nothing to turn off.
    if (error == EAFNOSUPPORT || error == EOPNOTSUPP) return;
    if (error) throw_errno("turning IPv6 autoconfiguration off on " + name, error);
}

bool RouteNetlink::delete_link(const std::string& name) {
    NetlinkMessage message(RTM_DELLINK, 0);
    message.header(link_header()).attribute(IFLA_IFNAME, name);
    int error = transact(message);
    if (error == ENODEV) return false;
    if (error) throw_errno("deleting link " + name, error);
    return true;
}

void RouteNetlink::add_address(const std::string& link, Ipv4 address, int prefix) {
    int index = link_index(link);
    if (index == 0) fail("adding an address to " + link + ": no such link");
    ifaddrmsg header{};
    header.ifa_family = AF_INET;
    header.ifa_prefixlen = static_cast<unsigned char>(prefix);
    header.ifa_scope = RT_SCOPE_UNIVERSE;
    header.ifa_index = static_cast<unsigned>(index);
    std::uint32_t local = address.network_order();
    std::uint32_t broadcast = Subnet{Ipv4{address.value & Subnet{address, prefix}.mask()}, prefix}
                                  .broadcast()
                                  .network_order();
    NetlinkMessage message(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    message.header(header)
        .attribute(IFA_LOCAL, &local, sizeof local)
        .attribute(IFA_ADDRESS, &local, sizeof local);
    if (prefix < 31) message.attribute(IFA_BROADCAST, &broadcast, sizeof broadcast);
    int error = transact(message);
    if (error == EEXIST) return;
    if (error)
        throw_errno("adding " + to_string(address) + "/" + std::to_string(prefix) + " to " + link,
                    error);
}

void RouteNetlink::add_default_route(Ipv4 gateway) {
    rtmsg header{};
    header.rtm_family = AF_INET;
    header.rtm_table = RT_TABLE_MAIN;
    header.rtm_protocol = RTPROT_BOOT;
    header.rtm_scope = RT_SCOPE_UNIVERSE;
    header.rtm_type = RTN_UNICAST;
    std::uint32_t via = gateway.network_order();
    NetlinkMessage message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    message.header(header).attribute(RTA_GATEWAY, &via, sizeof via);
    request(message, "adding the default route via " + to_string(gateway));
}

void RouteNetlink::add_address6(const std::string& link, const Ipv6& address, int prefix) {
    int index = link_index(link);
    if (index == 0) fail("adding an address to " + link + ": no such link");
    ifaddrmsg header{};
    header.ifa_family = AF_INET6;
    header.ifa_prefixlen = static_cast<unsigned char>(prefix);
    header.ifa_scope = RT_SCOPE_UNIVERSE;
    header.ifa_index = static_cast<unsigned>(index);
    // No duplicate address detection: berth's IPAM already guarantees the
    // address is unique, and DAD would keep it unusable for a second or two.
    NetlinkMessage message(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    message.header(header)
        .attribute(IFA_LOCAL, address.bytes.data(), address.bytes.size())
        .attribute(IFA_ADDRESS, address.bytes.data(), address.bytes.size())
        .attribute_u32(IFA_FLAGS, IFA_F_NODAD);
    int error = transact(message);
    if (error == EEXIST) return;
    if (error)
        throw_errno("adding " + to_string(address) + "/" + std::to_string(prefix) + " to " + link,
                    error);
}

void RouteNetlink::add_default_route6(const Ipv6& gateway) {
    rtmsg header{};
    header.rtm_family = AF_INET6;
    header.rtm_table = RT_TABLE_MAIN;
    header.rtm_protocol = RTPROT_BOOT;
    header.rtm_scope = RT_SCOPE_UNIVERSE;
    header.rtm_type = RTN_UNICAST;
    NetlinkMessage message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    message.header(header).attribute(RTA_GATEWAY, gateway.bytes.data(), gateway.bytes.size());
    request(message, "adding the IPv6 default route via " + to_string(gateway));
}

std::vector<Subnet> RouteNetlink::ipv4_subnets() {
    ifaddrmsg header{};
    header.ifa_family = AF_INET;
    NetlinkMessage message(RTM_GETADDR, NLM_F_DUMP);
    message.header(header);
    std::vector<Subnet> subnets;
    for (const auto& payload : dump(message)) {
        if (payload.size() < sizeof(ifaddrmsg)) continue;
        ifaddrmsg info;
        std::memcpy(&info, payload.data(), sizeof info);
        auto attributes = parse_attributes(std::string_view(payload).substr(sizeof info));
        auto local = find_attribute(attributes, IFA_LOCAL);
        if (!local) local = find_attribute(attributes, IFA_ADDRESS);
        if (!local || local->size() != 4 || info.ifa_prefixlen > 32) continue;
        std::uint32_t raw;
        std::memcpy(&raw, local->data(), 4);
        Subnet subnet{Ipv4{ntohl(raw)}, info.ifa_prefixlen};
        subnet.network.value &= subnet.mask();
        subnets.push_back(subnet);
    }
    return subnets;
}

std::vector<std::string> RouteNetlink::links_named(std::string_view prefix) {
    NetlinkMessage message(RTM_GETLINK, NLM_F_DUMP);
    message.header(link_header());
    std::vector<std::string> names;
    for (const auto& payload : dump(message)) {
        if (payload.size() < sizeof(ifinfomsg)) continue;
        auto attributes = parse_attributes(std::string_view(payload).substr(sizeof(ifinfomsg)));
        if (auto name = find_attribute(attributes, IFLA_IFNAME)) {
            std::string text(name->data(), strnlen(name->data(), name->size()));
            if (text.starts_with(prefix)) names.push_back(text);
        }
    }
    return names;
}

} // namespace berth::network
