// What `berth stats`, `pause` and `unpause` do to a running container,
// through the runtime's view of its cgroups.
#include "berth/engine/engine.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/text.h"
#include "berth/engine/container_files.h"
#include "berth/runtime/runtime.h"
#include "container_runtime.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <unistd.h>

namespace berth::engine {

namespace {

using nlohmann::json;

std::uint64_t number_at(const json& object, std::initializer_list<const char*> path) {
    const json* at = &object;
    for (const char* key : path) {
        if (!at->is_object() || !at->contains(key)) return 0;
        at = &(*at)[key];
    }
    return at->is_number_unsigned() || at->is_number_integer() ? at->get<std::uint64_t>() : 0;
}

// Bytes read and written, summed over devices, as "blkio" lists them.
void add_block_io(const json& entries, ContainerStats& stats) {
    if (!entries.is_array()) return;
    for (const auto& entry : entries) {
        std::string op = entry.value("op", "");
        std::uint64_t value = entry.value("value", std::uint64_t{0});
        if (op == "Read") stats.block_read += value;
        if (op == "Write") stats.block_written += value;
    }
}

// The container's interfaces but loopback, from inside its network namespace.
void add_network_io(pid_t pid, ContainerStats& stats) {
    std::string text;
    try {
        text = read_file("/proc/" + std::to_string(pid) + "/net/dev");
    } catch (const Error&) {
        return;
    }
    // "  eth0: rx_bytes rx_packets ... (8 receive fields) tx_bytes ..."
    for (const std::string& line : split_lines(text)) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        name.erase(0, name.find_first_not_of(' '));
        if (name == "lo") continue;
        auto fields = split_words(line.substr(colon + 1));
        if (fields.size() < 9) continue;
        stats.network_received += std::stoull(fields[0]);
        stats.network_sent += std::stoull(fields[8]);
    }
}

std::uint64_t host_memory() {
    long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGESIZE);
    return pages > 0 && page_size > 0 ? static_cast<std::uint64_t>(pages) * page_size : 0;
}

} // namespace

void Engine::pause(const std::string& reference) {
    ContainerRecord record = get(reference);
    if (record.state != ContainerState::running)
        fail("container " + record.name + " is not running");
    if (record.paused) fail("container " + record.name + " is already paused");
    std::string hint = pause_hint_path(container_dir(record.id));
    write_file_atomic(hint, "");
    try {
        runtime_of_container(options_.run_root, record)->pause(record.id);
    } catch (...) {
        ::unlink(hint.c_str());
        throw;
    }
}

void Engine::unpause(const std::string& reference) {
    ContainerRecord record = get(reference);
    if (!record.paused) fail("container " + record.name + " is not paused");
    runtime_of_container(options_.run_root, record)->resume(record.id);
    ::unlink(pause_hint_path(container_dir(record.id)).c_str());
}

ContainerStats Engine::stats(const std::string& reference) {
    ContainerRecord record = get(reference);
    ContainerStats stats;
    stats.id = record.id;
    stats.name = record.name;
    stats.sampled_at_ns =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::steady_clock::now().time_since_epoch())
                                       .count());
    if (record.state != ContainerState::running) return stats;
    json data =
        json::parse(runtime_of_container(options_.run_root, record)->stats(record.id))["data"];
    stats.running = true;
    stats.cpu_ns = number_at(data, {"cpu", "usage", "total"});
    // As docker: what the kernel could drop at once (inactive file pages) is not "used".
    std::uint64_t usage = number_at(data, {"memory", "usage", "usage"});
    std::uint64_t inactive = number_at(data, {"memory", "raw", "total_inactive_file"}) +
                             number_at(data, {"memory", "raw", "inactive_file"});
    stats.memory_used = usage > inactive ? usage - inactive : usage;
    std::uint64_t limit = number_at(data, {"memory", "usage", "limit"});
    std::uint64_t host = host_memory();
    stats.memory_limit = limit == 0 || (host && limit > host) ? host : limit;
    stats.pids = number_at(data, {"pids", "current"});
    if (data.contains("blkio")) add_block_io(data["blkio"]["ioServiceBytesRecursive"], stats);
    add_network_io(static_cast<pid_t>(record.pid), stats);
    return stats;
}

} // namespace berth::engine
