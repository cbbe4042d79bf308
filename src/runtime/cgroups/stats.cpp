// Usage figures, shaped like the "data" of runc's `events --stats` so that
// containerd and friends read them unchanged. A controller that is not there
// leaves its part out rather than failing the rest.
#include "berth/base/error.h"
#include "berth/base/text.h"
#include "berth/runtime/cgroups.h"
#include "control_files.h"

#include <limits>
#include <unistd.h>

namespace berth::runtime::cgroups {

namespace {

using nlohmann::json;
using Keyed = std::map<std::string, std::uint64_t>;

constexpr std::uint64_t unlimited = std::numeric_limits<std::uint64_t>::max();

std::uint64_t number_or_zero(const std::string& dir, const std::string& file) {
    if (!has_control(dir, file)) return 0;
    try {
        return read_control_number(dir, file);
    } catch (const Error&) {
        return 0;
    }
}

Keyed keyed_or_empty(const std::string& dir, const std::string& file) {
    if (!has_control(dir, file)) return {};
    return read_keyed_control(dir, file);
}

std::vector<std::uint64_t> numbers(const std::string& dir, const std::string& file) {
    std::vector<std::uint64_t> out;
    if (!has_control(dir, file)) return out;
    for (const auto& word : split_words(read_control(dir, file)))
        out.push_back(std::stoull(word));
    return out;
}

// "8:0 Read 4096" lines of a v1 blkio file, "Total" lines included as runc has them.
json blkio_entries(const std::string& dir, const std::string& file) {
    json entries = json::array();
    if (!has_control(dir, file)) return entries;
    for (const std::string& line : split_lines(read_control(dir, file))) {
        auto words = split_words(line);
        if (words.size() != 3) continue;
        auto colon = words[0].find(':');
        if (colon == std::string::npos) continue;
        entries.push_back({{"major", std::stoull(words[0].substr(0, colon))},
                           {"minor", std::stoull(words[0].substr(colon + 1))},
                           {"op", words[1]},
                           {"value", std::stoull(words[2])}});
    }
    return entries;
}

json memory_entry(std::uint64_t usage, std::uint64_t max, std::uint64_t limit,
                  std::uint64_t failcnt) {
    return {{"usage", usage}, {"max", max}, {"limit", limit}, {"failcnt", failcnt}};
}

json v1_stats(const std::string& cpu, const std::string& cpuacct, const std::string& memory,
              const std::string& pids, const std::string& blkio) {
    json data = json::object();
    if (!cpuacct.empty()) {
        // cpuacct.stat counts USER_HZ ticks; runc reports nanoseconds.
        const std::uint64_t ns_per_tick =
            1000000000ull / static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK));
        Keyed ticks = keyed_or_empty(cpuacct, "cpuacct.stat");
        data["cpu"]["usage"] = {{"total", number_or_zero(cpuacct, "cpuacct.usage")},
                                {"percpu", numbers(cpuacct, "cpuacct.usage_percpu")},
                                {"percpu_kernel", numbers(cpuacct, "cpuacct.usage_percpu_sys")},
                                {"percpu_user", numbers(cpuacct, "cpuacct.usage_percpu_user")},
                                {"kernel", ticks["system"] * ns_per_tick},
                                {"user", ticks["user"] * ns_per_tick}};
    }
    if (!cpu.empty()) {
        Keyed stat = keyed_or_empty(cpu, "cpu.stat");
        data["cpu"]["throttling"] = {{"periods", stat["nr_periods"]},
                                     {"throttledPeriods", stat["nr_throttled"]},
                                     {"throttledTime", stat["throttled_time"]}};
    }
    if (!memory.empty()) {
        Keyed stat = keyed_or_empty(memory, "memory.stat");
        auto entry = [&](const std::string& prefix) {
            return memory_entry(number_or_zero(memory, prefix + ".usage_in_bytes"),
                                number_or_zero(memory, prefix + ".max_usage_in_bytes"),
                                number_or_zero(memory, prefix + ".limit_in_bytes"),
                                number_or_zero(memory, prefix + ".failcnt"));
        };
        data["memory"] = {{"cache", stat["cache"]},
                          {"usage", entry("memory")},
                          {"swap", entry("memory.memsw")},
                          {"kernel", entry("memory.kmem")},
                          {"kernelTCP", entry("memory.kmem.tcp")},
                          {"raw", stat}};
    }
    if (!pids.empty()) {
        std::uint64_t limit = number_or_zero(pids, "pids.max");
        // runc reports "max" as 0.
        data["pids"] = {{"current", number_or_zero(pids, "pids.current")},
                        {"limit", limit == unlimited ? 0 : limit}};
    }
    if (!blkio.empty()) {
        // BFQ's figures where it is the scheduler, else the throttling layer's,
        // which counts every I/O whatever the scheduler.
        bool bfq = has_control(blkio, "blkio.bfq.io_service_bytes_recursive");
        std::string prefix = bfq ? "blkio.bfq." : "blkio.throttle.";
        data["blkio"] = {
            {"ioServiceBytesRecursive",
             blkio_entries(blkio, prefix + "io_service_bytes_recursive")},
            {"ioServicedRecursive", blkio_entries(blkio, prefix + "io_serviced_recursive")}};
    }
    return data;
}

json v2_io(const std::string& dir) {
    json bytes = json::array(), serviced = json::array();
    if (!has_control(dir, "io.stat")) return {};
    for (const std::string& line : split_lines(read_control(dir, "io.stat"))) {
        auto words = split_words(line); // "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"
        if (words.empty()) continue;
        auto colon = words[0].find(':');
        if (colon == std::string::npos) continue;
        std::uint64_t major = std::stoull(words[0].substr(0, colon));
        std::uint64_t minor = std::stoull(words[0].substr(colon + 1));
        Keyed values;
        for (std::size_t i = 1; i < words.size(); ++i) {
            auto equals = words[i].find('=');
            if (equals != std::string::npos)
                values[words[i].substr(0, equals)] = std::stoull(words[i].substr(equals + 1));
        }
        auto add = [&](json& into, const char* op, std::uint64_t value) {
            into.push_back({{"major", major}, {"minor", minor}, {"op", op}, {"value", value}});
        };
        add(bytes, "Read", values["rbytes"]);
        add(bytes, "Write", values["wbytes"]);
        add(serviced, "Read", values["rios"]);
        add(serviced, "Write", values["wios"]);
    }
    return {{"ioServiceBytesRecursive", bytes}, {"ioServicedRecursive", serviced}};
}

json v2_stats(const std::string& dir) {
    json data = json::object();
    Keyed cpu = keyed_or_empty(dir, "cpu.stat"); // present even without the cpu controller
    data["cpu"] = {{"usage",
                    {{"total", cpu["usage_usec"] * 1000},
                     {"kernel", cpu["system_usec"] * 1000},
                     {"user", cpu["user_usec"] * 1000}}},
                   {"throttling",
                    {{"periods", cpu["nr_periods"]},
                     {"throttledPeriods", cpu["nr_throttled"]},
                     {"throttledTime", cpu["throttled_usec"] * 1000}}}};
    if (has_control(dir, "memory.current")) {
        Keyed stat = keyed_or_empty(dir, "memory.stat");
        std::uint64_t usage = number_or_zero(dir, "memory.current");
        std::uint64_t limit = number_or_zero(dir, "memory.max");
        std::uint64_t swap_limit = number_or_zero(dir, "memory.swap.max");
        // v1 reported swap as memory + swap; runc keeps that shape on v2.
        std::uint64_t combined_limit =
            limit == unlimited || swap_limit == unlimited ? unlimited : limit + swap_limit;
        data["memory"] = {
            {"cache", stat["file"]},
            {"usage", memory_entry(usage, number_or_zero(dir, "memory.peak"), limit,
                                   keyed_or_empty(dir, "memory.events")["max"])},
            {"swap", memory_entry(usage + number_or_zero(dir, "memory.swap.current"),
                                  number_or_zero(dir, "memory.swap.peak"), combined_limit,
                                  keyed_or_empty(dir, "memory.swap.events")["max"])},
            {"raw", stat}};
    }
    if (has_control(dir, "pids.current")) {
        std::uint64_t limit = number_or_zero(dir, "pids.max");
        data["pids"] = {{"current", number_or_zero(dir, "pids.current")},
                        {"limit", limit == unlimited ? 0 : limit}};
    }
    json io = v2_io(dir);
    if (!io.is_null()) data["blkio"] = io;
    return data;
}

} // namespace

json Cgroup::stats() const {
    if (mode_ == Mode::v2) return v2_stats(directory("unified"));
    return v1_stats(directory("cpu"), directory("cpuacct"), directory("memory"), directory("pids"),
                    directory("blkio"));
}

std::uint64_t Cgroup::oom_kill_count() const {
    if (mode_ == Mode::v2) return keyed_or_empty(directory("unified"), "memory.events")["oom_kill"];
    std::string memory = directory("memory");
    if (memory.empty()) return 0;
    return keyed_or_empty(memory, "memory.oom_control")["oom_kill"];
}

} // namespace berth::runtime::cgroups
