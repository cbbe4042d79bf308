// linux.resources on cgroup v1: the files of each controller's hierarchy,
// with the figures as the spec gives them.
#include "berth/base/error.h"
#include "resource_plan.h"

namespace berth::runtime::cgroups {

namespace {

void plan_memory(const Resources::Memory& memory, WritePlan& plan) {
    const char* memsw = "memory.memsw.limit_in_bytes";
    // memory.memsw must never be below memory.limit, before or after either
    // write. Lifting memsw first, then setting the limit, then memsw, is an
    // order that holds whatever the current values are.
    if (memory.limit) {
        if (memory.swap || *memory.limit == -1) {
            // Where the kernel keeps no swap accounting, an unlimited memsw is
            // what there is anyway: only a finite swap limit needs the file.
            plan.add(memory.swap ? "memory.swap" : "memory.limit", "memory", memsw, "-1").optional =
                !memory.swap || *memory.swap == -1;
        }
        plan.add("memory.limit", "memory", "memory.limit_in_bytes", std::to_string(*memory.limit));
        if (memory.swap && *memory.swap != -1)
            plan.add("memory.swap", "memory", memsw, std::to_string(*memory.swap));
    } else if (memory.swap) {
        plan.add("memory.swap", "memory", memsw, std::to_string(*memory.swap)).optional =
            *memory.swap == -1;
    }
    if (memory.reservation)
        plan.add("memory.reservation", "memory", "memory.soft_limit_in_bytes",
                 std::to_string(*memory.reservation));
    if (memory.kernel_tcp)
        plan.add("memory.kernelTCP", "memory", "memory.kmem.tcp.limit_in_bytes",
                 std::to_string(*memory.kernel_tcp));
    if (memory.swappiness)
        plan.add("memory.swappiness", "memory", "memory.swappiness",
                 std::to_string(*memory.swappiness));
    if (memory.disable_oom_killer)
        plan.add("memory.disableOOMKiller", "memory", "memory.oom_control", "1");
    if (memory.use_hierarchy)
        plan.add("memory.useHierarchy", "memory", "memory.use_hierarchy",
                 *memory.use_hierarchy ? "1" : "0");
}

void plan_cpu(const Resources::Cpu& cpu, WritePlan& plan) {
    if (cpu.shares) plan.add("cpu.shares", "cpu", "cpu.shares", std::to_string(*cpu.shares));
    // The period first: the kernel checks a quota against the period in place.
    if (cpu.period) plan.add("cpu.period", "cpu", "cpu.cfs_period_us", std::to_string(*cpu.period));
    if (cpu.quota) plan.add("cpu.quota", "cpu", "cpu.cfs_quota_us", std::to_string(*cpu.quota));
    if (cpu.burst) plan.add("cpu.burst", "cpu", "cpu.cfs_burst_us", std::to_string(*cpu.burst));
    if (cpu.realtime_period)
        plan.add("cpu.realtimePeriod", "cpu", "cpu.rt_period_us",
                 std::to_string(*cpu.realtime_period));
    if (cpu.realtime_runtime)
        plan.add("cpu.realtimeRuntime", "cpu", "cpu.rt_runtime_us",
                 std::to_string(*cpu.realtime_runtime));
    if (cpu.idle) plan.add("cpu.idle", "cpu", "cpu.idle", std::to_string(*cpu.idle));
    if (!cpu.cpus.empty()) plan.add("cpu.cpus", "cpuset", "cpuset.cpus", cpu.cpus);
    if (!cpu.mems.empty()) plan.add("cpu.mems", "cpuset", "cpuset.mems", cpu.mems);
}

void plan_block_io(const Resources::BlockIo& io, WritePlan& plan) {
    // Kernels without CFQ name BFQ's weights blkio.bfq.*.
    if (io.weight) {
        auto& write =
            plan.add("blockIO.weight", "blkio", "blkio.weight", std::to_string(*io.weight));
        write.fallback_file = "blkio.bfq.weight";
        write.fallback_value = write.value;
    }
    if (io.leaf_weight)
        plan.add("blockIO.leafWeight", "blkio", "blkio.leaf_weight",
                 std::to_string(*io.leaf_weight));
    for (const auto& entry : io.weight_devices) {
        if (entry.weight) {
            auto& write = plan.add("blockIO.weightDevice", "blkio", "blkio.weight_device",
                                   device_number(entry.major, entry.minor) + " " +
                                       std::to_string(*entry.weight));
            write.fallback_file = "blkio.bfq.weight_device";
            write.fallback_value = write.value;
        }
        if (entry.leaf_weight)
            plan.add("blockIO.weightDevice", "blkio", "blkio.leaf_weight_device",
                     device_number(entry.major, entry.minor) + " " +
                         std::to_string(*entry.leaf_weight));
    }
    auto throttle = [&](const char* field, const char* file, const std::vector<DeviceRate>& rates) {
        for (const auto& rate : rates)
            plan.add(field, "blkio", file,
                     device_number(rate.major, rate.minor) + " " + std::to_string(rate.rate));
    };
    throttle("blockIO.throttleReadBpsDevice", "blkio.throttle.read_bps_device", io.read_bps);
    throttle("blockIO.throttleWriteBpsDevice", "blkio.throttle.write_bps_device", io.write_bps);
    throttle("blockIO.throttleReadIOPSDevice", "blkio.throttle.read_iops_device", io.read_iops);
    throttle("blockIO.throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", io.write_iops);
}

} // namespace

std::vector<ControlWrite> plan_v1(const Resources& resources) {
    if (!resources.unified.empty())
        fail("linux.resources.unified: these are cgroup v2 files, and this host's controllers are "
             "cgroup v1; use the v1 fields (linux.resources.memory, .cpu...) instead");
    WritePlan plan;
    plan_memory(resources.memory, plan);
    plan_cpu(resources.cpu, plan);
    if (resources.pids_limit)
        plan.add("pids.limit", "pids", "pids.max",
                 *resources.pids_limit < 0 ? "max" : std::to_string(*resources.pids_limit));
    plan_block_io(resources.block_io, plan);
    for (const auto& [size, limit] : resources.hugepage_limits)
        plan.add("hugepageLimits", "hugetlb", "hugetlb." + size + ".limit_in_bytes",
                 std::to_string(limit));
    if (resources.net_class_id)
        plan.add("network.classID", "net_cls", "net_cls.classid",
                 std::to_string(*resources.net_class_id));
    for (const auto& [interface, priority] : resources.net_priorities)
        plan.add("network.priorities", "net_prio", "net_prio.ifpriomap",
                 interface + " " + std::to_string(priority));
    for (const auto& [name, limit] : resources.rdma) {
        auto count = [](const std::optional<std::uint32_t>& n) {
            return n ? std::to_string(*n) : std::string("max");
        };
        plan.add("rdma", "rdma", "rdma.max",
                 name + " hca_handle=" + count(limit.hca_handles) +
                     " hca_object=" + count(limit.hca_objects));
    }
    for (const auto& rule : resources.devices)
        plan.add("devices", "devices", rule.allow ? "devices.allow" : "devices.deny",
                 v1_device_line(rule));
    return plan.take();
}

} // namespace berth::runtime::cgroups
