#include "container_filters.h"

#include "berth/base/error.h"

#include <algorithm>
#include <set>

namespace berth::cli {

namespace {

const std::vector<std::string> statuses = {"created", "restarting", "running", "removing",
                                           "paused",  "exited",     "dead"};

} // namespace

ContainerFilter::ContainerFilter(const std::vector<std::string>& filters) {
    for (const auto& filter : filters) {
        auto equals = filter.find('=');
        if (equals == std::string::npos)
            fail("bad format of filter (expected name=value): " + filter);
        std::string key = filter.substr(0, equals), value = filter.substr(equals + 1);
        static const std::set<std::string> keys = {"id",      "name",     "label",  "status",
                                                   "exited",  "ancestor", "health", "volume",
                                                   "network", "before",   "since"};
        if (!keys.contains(key)) fail("invalid filter '" + key + "'");
        if (key == "name") {
            try {
                names_.emplace_back(value, std::regex::ECMAScript | std::regex::optimize);
            } catch (const std::regex_error&) {
                fail("invalid filter 'name=" + value + "': not a regular expression");
            }
        }
        if (key == "status" && std::find(statuses.begin(), statuses.end(), value) == statuses.end())
            fail("invalid filter 'status=" + value +
                 "': use created, restarting, running, removing, paused, exited or dead");
        if (key == "health" && value != "starting" && value != "healthy" && value != "unhealthy" &&
            value != "none")
            fail("Unrecognised filter value for health: " + value);
        if (key == "exited" &&
            (value.empty() || value.find_first_not_of("0123456789-") != std::string::npos))
            fail("invalid filter 'exited=" + value + "': an exit code is a number");
        values_[key].push_back(value);
    }
}

const std::vector<std::string>& ContainerFilter::references(const std::string& key) const {
    static const std::vector<std::string> none;
    auto found = values_.find(key);
    return found == values_.end() ? none : found->second;
}

bool ContainerFilter::in_window(std::size_t position, const std::vector<std::size_t>& before,
                                const std::vector<std::size_t>& since) {
    // Newest first: created before X is listed after X.
    return std::all_of(before.begin(), before.end(), [&](auto x) { return position > x; }) &&
           std::all_of(since.begin(), since.end(), [&](auto x) { return position < x; });
}

bool ContainerFilter::matches(const engine::ContainerRecord& record,
                              const engine::ContainerOptions& options, const std::string& network,
                              const std::string& health) const {
    const auto& labels = options.labels;
    auto any = [&](const std::string& key, auto test) {
        auto found = values_.find(key);
        if (found == values_.end()) return true;
        return std::any_of(found->second.begin(), found->second.end(), test);
    };
    return any("id", [&](const std::string& v) { return record.id.starts_with(v); }) &&
           // Docker matches names by regular expression, with or without its "/".
           (names_.empty() || std::any_of(names_.begin(), names_.end(),
                                          [&](const std::regex& pattern) {
                                              return std::regex_search(record.name, pattern) ||
                                                     std::regex_search("/" + record.name, pattern);
                                          })) &&
           any("label",
               [&](const std::string& v) {
                   auto equals = v.find('=');
                   auto label = labels.find(v.substr(0, equals));
                   if (label == labels.end()) return false;
                   return equals == std::string::npos || label->second == v.substr(equals + 1);
               }) &&
           any("status",
               [&](const std::string& v) {
                   return v == (record.paused ? "paused" : engine::state_name(record.state));
               }) &&
           any("exited",
               [&](const std::string& v) {
                   return record.state == engine::ContainerState::exited &&
                          std::to_string(record.exit_code) == v;
               }) &&
           any("health", [&](const std::string& v) { return v == health; }) &&
           any("network", [&](const std::string& v) { return v == network; }) &&
           any("volume",
               [&](const std::string& v) {
                   return std::any_of(options.mounts.begin(), options.mounts.end(),
                                      [&](const engine::MountRequest& mount) {
                                          return (mount.type != "tmpfs" && mount.source == v) ||
                                                 mount.target == v;
                                      });
               }) &&
           any("ancestor", [&](const std::string& v) {
               std::string bare = v.starts_with("sha256:") ? v.substr(7) : v;
               std::string image_id = record.image_id.starts_with("sha256:")
                                          ? record.image_id.substr(7)
                                          : record.image_id;
               return record.image_name == v || record.image_name == v + ":latest" ||
                      v == record.image_name + ":latest" ||
                      (bare.size() >= 4 && image_id.starts_with(bare));
           });
}

} // namespace berth::cli
