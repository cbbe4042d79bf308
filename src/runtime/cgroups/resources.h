// linux.resources read and validated into plain data, the same for both
// cgroup versions. Following runc, a zero where zero is no sensible limit
// (memory.limit, cpu.shares, cpu.quota, pids.limit...) means "not set".
#pragma once

#include "device_rules.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace berth::runtime::cgroups {

struct DeviceWeight {
    std::int64_t major = 0, minor = 0;
    std::optional<std::uint64_t> weight, leaf_weight;
};

struct DeviceRate {
    std::int64_t major = 0, minor = 0;
    std::uint64_t rate = 0;
};

struct RdmaLimit {
    std::optional<std::uint32_t> hca_handles, hca_objects;
};

struct Resources {
    struct Memory {
        std::optional<std::int64_t> limit, reservation, swap, kernel_tcp; // -1: unlimited
        std::optional<std::uint64_t> swappiness;
        bool disable_oom_killer = false;
        std::optional<bool> use_hierarchy;
    } memory;
    struct Cpu {
        std::optional<std::uint64_t> shares, period, burst, realtime_period;
        std::optional<std::int64_t> quota, realtime_runtime, idle; // quota -1: unlimited
        std::string cpus, mems;
    } cpu;
    std::optional<std::int64_t> pids_limit; // negative: unlimited
    struct BlockIo {
        std::optional<std::uint64_t> weight, leaf_weight;
        std::vector<DeviceWeight> weight_devices;
        std::vector<DeviceRate> read_bps, write_bps, read_iops, write_iops;
    } block_io;
    std::vector<std::pair<std::string, std::uint64_t>> hugepage_limits; // "2MB" → bytes
    std::optional<std::uint32_t> net_class_id;
    std::vector<std::pair<std::string, std::uint32_t>> net_priorities; // interface → priority
    std::map<std::string, RdmaLimit> rdma;
    std::map<std::string, std::string> unified; // v2 file → value
    std::vector<DeviceRule> devices;
};

Resources parse_resources(const nlohmann::json& resources);

} // namespace berth::runtime::cgroups
