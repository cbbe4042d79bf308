// linux.resources on cgroup v2: the spec's v1-shaped figures converted to
// v2's files the way runc and crun convert them, so a config means the same
// under any of the three runtimes.
#include "berth/base/error.h"
#include "resource_plan.h"

#include <map>

namespace berth::runtime::cgroups {

std::uint64_t cpu_weight_from_shares(std::uint64_t shares) {
    // crun's mapping of shares [2, 262144] onto weight [1, 10000].
    if (shares < 2) shares = 2;
    if (shares > 262144) shares = 262144;
    return 1 + ((shares - 2) * 9999) / 262142;
}

std::uint64_t io_weight_from_blkio_weight(std::uint64_t weight) {
    // blkio.weight [10, 1000] onto io.weight [1, 10000].
    if (weight < 10) weight = 10;
    if (weight > 1000) weight = 1000;
    return 1 + (weight - 10) * 9999 / 990;
}

namespace {

std::string limit_or_max(std::int64_t limit) {
    return limit < 0 ? "max" : std::to_string(limit);
}

void plan_memory(const Resources::Memory& memory, WritePlan& plan) {
    // OCI's swap is v1's memsw: memory and swap together. v2's memory.swap.max
    // counts swap alone, so it is swap - limit.
    std::optional<std::string> swap_max;
    if (memory.swap) {
        if (*memory.swap == -1) {
            swap_max = "max";
        } else {
            if (!memory.limit || *memory.limit == -1)
                fail("linux.resources.memory.swap: cgroup v2 can limit swap only together with a "
                     "memory limit (linux.resources.memory.limit)");
            swap_max = std::to_string(*memory.swap - *memory.limit);
        }
    } else if (memory.limit == -1) {
        // An unlimited memory with a limited swap left over would still cap it.
        swap_max = "max";
    }
    if (swap_max) {
        auto& write = plan.add("memory.swap", "memory", "memory.swap.max", *swap_max);
        // Without swap accounting there is no file, and "max" is already so.
        write.optional = *swap_max == "max";
    }
    if (memory.limit) plan.add("memory.limit", "memory", "memory.max", limit_or_max(*memory.limit));
    if (memory.reservation)
        plan.add("memory.reservation", "memory", "memory.low", limit_or_max(*memory.reservation));
    // v2 has no knob for kernelTCP, swappiness, disableOOMKiller or
    // useHierarchy (it is always hierarchical); runc and crun skip them too,
    // and failing would refuse configs written for both versions.
}

void plan_cpu(const Resources::Cpu& cpu, WritePlan& plan) {
    if (cpu.shares)
        plan.add("cpu.shares", "cpu", "cpu.weight",
                 std::to_string(cpu_weight_from_shares(*cpu.shares)));
    if (cpu.quota || cpu.period) {
        // "max 100000": unlimited. A period alone leaves the quota unlimited, as in runc.
        std::string value = cpu.quota && *cpu.quota > 0 ? std::to_string(*cpu.quota) : "max";
        if (cpu.period) value += " " + std::to_string(*cpu.period);
        plan.add(cpu.quota ? "cpu.quota" : "cpu.period", "cpu", "cpu.max", value);
    }
    if (cpu.burst) plan.add("cpu.burst", "cpu", "cpu.max.burst", std::to_string(*cpu.burst));
    if (cpu.realtime_runtime || cpu.realtime_period)
        fail(std::string("linux.resources.cpu.") +
             (cpu.realtime_runtime ? "realtimeRuntime" : "realtimePeriod") +
             ": cgroup v2 has no real-time CPU budget; leave it out on this host");
    if (cpu.idle) plan.add("cpu.idle", "cpu", "cpu.idle", std::to_string(*cpu.idle));
    if (!cpu.cpus.empty()) plan.add("cpu.cpus", "cpuset", "cpuset.cpus", cpu.cpus);
    if (!cpu.mems.empty()) plan.add("cpu.mems", "cpuset", "cpuset.mems", cpu.mems);
}

void plan_io(const Resources::BlockIo& io, WritePlan& plan) {
    // BFQ takes blkio-range weights as they are; io.weight wants them scaled.
    auto weight = [&](const char* field, const std::string& prefix, std::uint64_t value) {
        auto& write = plan.add(field, "io", "io.bfq.weight", prefix + std::to_string(value));
        write.fallback_file = "io.weight";
        write.fallback_value = prefix + std::to_string(io_weight_from_blkio_weight(value));
    };
    if (io.weight) weight("blockIO.weight", "default ", *io.weight);
    for (const auto& entry : io.weight_devices)
        if (entry.weight)
            weight("blockIO.weightDevice", device_number(entry.major, entry.minor) + " ",
                   *entry.weight);
    // leafWeight went with CFQ; nothing in v2 takes it, and runc skips it as well.

    // One io.max line per device with all of its limits. A rate of 0 lifts
    // the limit on v1, and "max" says that on v2.
    std::map<std::pair<std::int64_t, std::int64_t>, std::string> lines;
    std::vector<std::pair<std::int64_t, std::int64_t>> order;
    auto add_rates = [&](const char* key, const std::vector<DeviceRate>& rates) {
        for (const auto& rate : rates) {
            auto id = std::make_pair(rate.major, rate.minor);
            if (!lines.count(id)) order.push_back(id);
            lines[id] += std::string(" ") + key + "=" +
                         (rate.rate == 0 ? std::string("max") : std::to_string(rate.rate));
        }
    };
    add_rates("rbps", io.read_bps);
    add_rates("wbps", io.write_bps);
    add_rates("riops", io.read_iops);
    add_rates("wiops", io.write_iops);
    for (const auto& id : order)
        plan.add("blockIO.throttle", "io", "io.max",
                 device_number(id.first, id.second) + lines[id]);
}

} // namespace

std::vector<ControlWrite> plan_v2(const Resources& resources) {
    if (resources.net_class_id || !resources.net_priorities.empty())
        fail("linux.resources.network: cgroup v2 has no net_cls or net_prio controller; leave "
             "classID and priorities out on this host");
    WritePlan plan;
    plan_memory(resources.memory, plan);
    plan_cpu(resources.cpu, plan);
    if (resources.pids_limit)
        plan.add("pids.limit", "pids", "pids.max", limit_or_max(*resources.pids_limit));
    plan_io(resources.block_io, plan);
    for (const auto& [size, limit] : resources.hugepage_limits)
        plan.add("hugepageLimits", "hugetlb", "hugetlb." + size + ".max", std::to_string(limit));
    for (const auto& [name, limit] : resources.rdma) {
        auto count = [](const std::optional<std::uint32_t>& n) {
            return n ? std::to_string(*n) : std::string("max");
        };
        plan.add("rdma", "rdma", "rdma.max",
                 name + " hca_handle=" + count(limit.hca_handles) +
                     " hca_object=" + count(limit.hca_objects));
    }
    // Last, so that a value given here wins over one converted above.
    for (const auto& [file, value] : resources.unified) {
        std::string controller = file.substr(0, file.find('.'));
        plan.add("unified." + file, controller == "cgroup" ? "" : controller, file, value);
    }
    return plan.take();
}

} // namespace berth::runtime::cgroups
