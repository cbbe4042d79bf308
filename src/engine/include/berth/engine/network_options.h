// What `run`/`create` asked of the network besides its name (--network
// stays in RunRequest): published ports, resolver and hosts entries,
// aliases. Plain data, kept in the RunRequest's JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace berth::engine {

struct NetworkOptions {
    std::vector<std::string> publish; // -p values as given; -P adds the image's exposed ports
    bool publish_all = false;         // -P
    std::vector<std::string> dns;     // --dns servers
    std::vector<std::string> dns_search;
    std::vector<std::string> add_hosts; // --add-host "name:ip"
    std::vector<std::string> aliases;   // --network-alias
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NetworkOptions, publish, publish_all, dns,
                                                dns_search, add_hosts, aliases)

} // namespace berth::engine
