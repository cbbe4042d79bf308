#include "container_filters.h"

#include "berth/base/error.h"

#include <algorithm>

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
        if (key != "id" && key != "name" && key != "label" && key != "status" && key != "exited" &&
            key != "ancestor" && key != "health")
            fail("invalid filter '" + key + "'");
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

bool ContainerFilter::matches(const engine::ContainerRecord& record,
                              const std::map<std::string, std::string>& labels,
                              const std::string& health) const {
    auto any = [&](const std::string& key, auto test) {
        auto found = values_.find(key);
        if (found == values_.end()) return true;
        return std::any_of(found->second.begin(), found->second.end(), test);
    };
    return any("id", [&](const std::string& v) { return record.id.starts_with(v); }) &&
           // Docker matches names by regular expression; a substring is its common use.
           any("name",
               [&](const std::string& v) {
                   std::string name = v.starts_with("/") ? v.substr(1) : v;
                   return record.name.find(name) != std::string::npos;
               }) &&
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
