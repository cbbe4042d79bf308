// Resources turned into the control-file writes that carry them out, one
// function per cgroup version. Planning touches nothing, so a field a
// version can not honour fails before any limit is half applied.
#pragma once

#include "resources.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace berth::runtime::cgroups {

struct ControlWrite {
    std::string field;      // "linux.resources.memory.limit", for errors
    std::string controller; // v1: the hierarchy; v2: the controller to enable; "" for none
    std::string file;       // "memory.limit_in_bytes"
    std::string value;
    // Written instead when `file` does not exist (blkio.weight → blkio.bfq.weight).
    std::string fallback_file;
    std::string fallback_value;
    // Skipped when the file does not exist: it only restates the kernel's default.
    bool optional = false;
};

// The writes of one plan, in order, each naming its spec field for errors.
class WritePlan {
  public:
    ControlWrite& add(const std::string& field, std::string controller, std::string file,
                      std::string value) {
        writes_.push_back(
            {"linux.resources." + field, std::move(controller), std::move(file), std::move(value)});
        return writes_.back();
    }
    std::vector<ControlWrite> take() { return std::move(writes_); }

  private:
    std::vector<ControlWrite> writes_;
};

// "major:minor", as both versions' device files write it.
inline std::string device_number(std::int64_t major, std::int64_t minor) {
    return std::to_string(major) + ":" + std::to_string(minor);
}

// Writes in the order they must happen; v1 device rules are among them.
std::vector<ControlWrite> plan_v1(const Resources& resources);
// Device rules are not among them: v2 needs an eBPF program for those.
std::vector<ControlWrite> plan_v2(const Resources& resources);

// The conversions runc and crun apply between v1 and v2 figures.
std::uint64_t cpu_weight_from_shares(std::uint64_t shares);
std::uint64_t io_weight_from_blkio_weight(std::uint64_t weight);

} // namespace berth::runtime::cgroups
