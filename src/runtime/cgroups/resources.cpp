#include "resources.h"

#include "berth/base/error.h"
#include "resource_fields.h"

#include <cctype>
#include <limits>

namespace berth::runtime::cgroups {

namespace {

// A limit where -1 is "unlimited" and 0 "not set".
std::optional<std::int64_t> limit_at(const Field& parent, const char* key) {
    auto value = parent.int64_at(key);
    if (value && *value < -1) parent.at(key).wrong("a limit in bytes, or -1 for unlimited");
    if (value && *value == 0) return std::nullopt;
    return value;
}

std::optional<std::uint64_t> nonzero_at(const Field& parent, const char* key) {
    auto value = parent.uint64_at(key);
    if (value && *value == 0) return std::nullopt;
    return value;
}

std::optional<std::uint64_t> ranged_at(const Field& parent, const char* key, std::uint64_t low,
                                       std::uint64_t high) {
    auto value = nonzero_at(parent, key);
    if (value && (*value < low || *value > high))
        parent.at(key).wrong("a number from " + std::to_string(low) + " to " +
                             std::to_string(high) + " (or 0 to leave it alone)");
    return value;
}

std::int64_t device_number(const Field& entry, const char* key) {
    std::int64_t value = entry.at(key).as_int64();
    if (value < 0 || value > 0xffffffffLL)
        entry.at(key).wrong("a device number from 0 to 4294967295");
    return value;
}

Resources::Memory parse_memory(const Field& memory) {
    memory.expect_object();
    Resources::Memory out;
    out.limit = limit_at(memory, "limit");
    out.reservation = limit_at(memory, "reservation");
    out.swap = limit_at(memory, "swap");
    // Kernel memory limits are gone from current kernels (writes fail since
    // 5.16) and runc ignores them too; only the type is checked.
    (void)memory.int64_at("kernel");
    out.kernel_tcp = limit_at(memory, "kernelTCP");
    out.swappiness = memory.uint64_at("swappiness");
    if (out.swappiness && *out.swappiness > 100)
        memory.at("swappiness").wrong("a number from 0 to 100");
    out.disable_oom_killer = memory.bool_at("disableOOMKiller").value_or(false);
    out.use_hierarchy = memory.bool_at("useHierarchy");
    (void)memory.bool_at("checkBeforeUpdate");
    if (out.limit && out.swap && *out.limit > 0 && *out.swap > 0 && *out.swap < *out.limit)
        memory.at("swap").wrong("at least memory.limit (" + std::to_string(*out.limit) +
                                "): it limits memory and swap together");
    return out;
}

Resources::Cpu parse_cpu(const Field& cpu) {
    cpu.expect_object();
    Resources::Cpu out;
    // The kernel's own range for cpu.shares; 0 leaves it alone.
    out.shares = ranged_at(cpu, "shares", 2, 262144);
    out.quota = limit_at(cpu, "quota");
    out.period = nonzero_at(cpu, "period");
    out.burst = cpu.uint64_at("burst");
    out.realtime_period = nonzero_at(cpu, "realtimePeriod");
    out.realtime_runtime = limit_at(cpu, "realtimeRuntime");
    out.idle = cpu.int64_at("idle");
    if (out.idle && *out.idle != 0 && *out.idle != 1) cpu.at("idle").wrong("0 or 1");
    out.cpus = cpu.string_at("cpus").value_or("");
    out.mems = cpu.string_at("mems").value_or("");
    for (const char* key : {"cpus", "mems"})
        for (char c : cpu.string_at(key).value_or(""))
            if (!std::isdigit(static_cast<unsigned char>(c)) && c != ',' && c != '-')
                cpu.at(key).wrong("a list such as \"0-3,6\"");
    return out;
}

Resources::BlockIo parse_block_io(const Field& block_io) {
    block_io.expect_object();
    Resources::BlockIo out;
    out.weight = ranged_at(block_io, "weight", 10, 1000);
    out.leaf_weight = ranged_at(block_io, "leafWeight", 10, 1000);
    for (const Field& entry : block_io.items("weightDevice")) {
        entry.expect_object();
        DeviceWeight weight;
        weight.major = device_number(entry, "major");
        weight.minor = device_number(entry, "minor");
        weight.weight = ranged_at(entry, "weight", 10, 1000);
        weight.leaf_weight = ranged_at(entry, "leafWeight", 10, 1000);
        out.weight_devices.push_back(weight);
    }
    auto rates = [&](const char* key, std::vector<DeviceRate>& into) {
        for (const Field& entry : block_io.items(key)) {
            entry.expect_object();
            into.push_back({device_number(entry, "major"), device_number(entry, "minor"),
                            entry.at("rate").as_uint64()});
        }
    };
    rates("throttleReadBpsDevice", out.read_bps);
    rates("throttleWriteBpsDevice", out.write_bps);
    rates("throttleReadIOPSDevice", out.read_iops);
    rates("throttleWriteIOPSDevice", out.write_iops);
    return out;
}

// "2MB", "1GB", "64KB": the names the kernel gives hugetlb files.
bool is_page_size(const std::string& size) {
    std::size_t digits = 0;
    while (digits < size.size() && std::isdigit(static_cast<unsigned char>(size[digits])))
        ++digits;
    std::string unit = size.substr(digits);
    return digits > 0 && (unit == "KB" || unit == "MB" || unit == "GB");
}

std::uint32_t uint32_of(const Field& field) {
    std::uint64_t value = field.as_uint64();
    if (value > std::numeric_limits<std::uint32_t>::max())
        field.wrong("a number from 0 to 4294967295");
    return static_cast<std::uint32_t>(value);
}

} // namespace

Resources parse_resources(const nlohmann::json& json) {
    Resources out;
    if (json.is_null()) return out;
    Field resources(json, "linux.resources");
    resources.expect_object();
    if (resources.has("memory")) out.memory = parse_memory(resources.at("memory"));
    if (resources.has("cpu")) out.cpu = parse_cpu(resources.at("cpu"));
    if (resources.has("pids")) {
        Field pids = resources.at("pids");
        pids.expect_object();
        out.pids_limit = pids.int64_at("limit");
        if (out.pids_limit == 0) out.pids_limit.reset();
    }
    if (resources.has("blockIO")) out.block_io = parse_block_io(resources.at("blockIO"));
    for (const Field& entry : resources.items("hugepageLimits")) {
        entry.expect_object();
        std::string size = entry.at("pageSize").as_string();
        if (!is_page_size(size))
            entry.at("pageSize").wrong("a page size such as \"2MB\" or \"1GB\"");
        out.hugepage_limits.emplace_back(size, entry.at("limit").as_uint64());
    }
    if (resources.has("network")) {
        Field network = resources.at("network");
        network.expect_object();
        if (network.has("classID")) out.net_class_id = uint32_of(network.at("classID"));
        for (const Field& entry : network.items("priorities")) {
            entry.expect_object();
            std::string name = entry.at("name").as_string();
            if (name.empty() || name.find_first_of(" \n/") != std::string::npos)
                entry.at("name").wrong("a network interface name");
            out.net_priorities.emplace_back(name, uint32_of(entry.at("priority")));
        }
    }
    for (const auto& [device, entry] : resources.members("rdma")) {
        entry.expect_object();
        if (device.empty() || device.find_first_of(" \n") != std::string::npos)
            entry.wrong("an RDMA device name as the key");
        RdmaLimit limit;
        if (entry.has("hcaHandles")) limit.hca_handles = uint32_of(entry.at("hcaHandles"));
        if (entry.has("hcaObjects")) limit.hca_objects = uint32_of(entry.at("hcaObjects"));
        out.rdma[device] = limit;
    }
    for (const auto& [file, value] : resources.members("unified")) {
        // A file name in the container's own directory, nothing more.
        if (file.empty() || file == "." || file == ".." || file.find('/') != std::string::npos)
            value.wrong("a cgroup v2 file name as the key, such as \"memory.high\"");
        out.unified[file] = value.as_string();
    }
    out.devices = parse_device_rules(resources);
    return out;
}

} // namespace berth::runtime::cgroups
