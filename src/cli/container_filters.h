// `ps --filter KEY=VALUE`, as Docker's: the same key given twice matches
// either value, different keys must all match. Keys: id, name (a regular
// expression, as docker's), label, status, exited, ancestor, health, volume
// (a volume's name, a bind's source, or a mount's destination), network,
// before and since (containers created before or after the one named).
#pragma once

#include "berth/engine/container_options.h"
#include "berth/engine/container_store.h"

#include <map>
#include <regex>
#include <string>
#include <vector>

namespace berth::cli {

class ContainerFilter {
  public:
    // Error "invalid filter 'x'" on an unknown key or a bad value.
    explicit ContainerFilter(const std::vector<std::string>& filters);
    bool empty() const { return values_.empty(); }
    // Whether a filter names the status (then `ps` lists stopped ones too).
    bool has_status() const { return values_.contains("status") || values_.contains("exited"); }
    // `health`: "starting", "healthy", "unhealthy" or "none"; `network`:
    // the container's network mode ("bridge", "host", a network's name).
    bool matches(const engine::ContainerRecord& record, const engine::ContainerOptions& options,
                 const std::string& network, const std::string& health = "none") const;
    // The containers `before=` and `since=` name, for newer_than/older_than.
    const std::vector<std::string>& references(const std::string& key) const;
    // Whether the filter keeps a container listed at `position` (0 the
    // newest) when the containers `before=`/`since=` name are at these positions.
    static bool in_window(std::size_t position, const std::vector<std::size_t>& before,
                          const std::vector<std::size_t>& since);

  private:
    std::map<std::string, std::vector<std::string>> values_;
    std::vector<std::regex> names_;
};

} // namespace berth::cli
