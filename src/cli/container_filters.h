// `ps --filter KEY=VALUE`, as Docker's: the same key given twice matches
// either value, different keys must all match. Keys: id, name, label,
// status, exited, ancestor, health.
#pragma once

#include "berth/engine/container_store.h"

#include <map>
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
    // `health`: "starting", "healthy", "unhealthy" or "none".
    bool matches(const engine::ContainerRecord& record,
                 const std::map<std::string, std::string>& labels,
                 const std::string& health = "none") const;

  private:
    std::map<std::string, std::vector<std::string>> values_;
};

} // namespace berth::cli
