// The commands that act on a running container through its cgroup:
// ps, pause, resume, update, events.
#include "berth/base/error.h"
#include "berth/runtime/runtime.h"
#include "container_cgroup.h"
#include "state_store.h"

#include <chrono>
#include <thread>

namespace berth::runtime {

namespace {

struct Live {
    ContainerRecord record;
    oci::Status status;
    cgroups::Cgroup cgroup;
};

// A container with a cgroup, in one of `allowed` states.
Live find(const std::string& root, const std::string& id,
          std::initializer_list<oci::Status> allowed, const char* action) {
    StateStore store(root);
    ContainerDir dir = store.open_for_reading(id);
    ContainerRecord record = dir.read_record();
    oci::Status status = dir.current_status(record);
    auto cgroup = saved_cgroup(record.cgroup_json);
    if (cgroup && status != oci::Status::stopped && cgroup->frozen()) status = oci::Status::paused;
    bool ok = false;
    for (auto state : allowed)
        ok |= state == status;
    if (!ok)
        fail(std::string("cannot ") + action + " container \"" + id + "\": it is " +
             oci::status_name(status));
    if (!cgroup)
        fail(std::string("cannot ") + action + " container \"" + id +
             "\": it has no cgroup (its config asks for none, or a rootless runtime could not "
             "write one)");
    return {std::move(record), status, std::move(*cgroup)};
}

} // namespace

std::vector<pid_t> Runtime::processes(const std::string& id) {
    return find(root_, id, {oci::Status::created, oci::Status::running, oci::Status::paused},
                "list the processes of")
        .cgroup.pids();
}

void Runtime::pause(const std::string& id) {
    find(root_, id, {oci::Status::created, oci::Status::running}, "pause").cgroup.freeze();
}

void Runtime::resume(const std::string& id) {
    find(root_, id, {oci::Status::paused}, "resume").cgroup.thaw();
}

void Runtime::update(const std::string& id, const std::string& resources_json) {
    nlohmann::json resources = nlohmann::json::parse(resources_json, nullptr, false);
    if (resources.is_discarded() || !resources.is_object())
        fail("update: the resources are not a JSON object");
    Live live = find(root_, id, {oci::Status::created, oci::Status::running, oci::Status::paused},
                     "update");
    live.cgroup.apply_resources(resources);
}

std::string Runtime::stats(const std::string& id) {
    Live live = find(root_, id, {oci::Status::created, oci::Status::running, oci::Status::paused},
                     "get the stats of");
    nlohmann::json event = {{"type", "stats"}, {"id", id}, {"data", live.cgroup.stats()}};
    return event.dump();
}

void Runtime::watch_events(const std::string& id, int interval_ms,
                           void (*print)(const std::string&)) {
    Live live = find(root_, id, {oci::Status::created, oci::Status::running, oci::Status::paused},
                     "watch the events of");
    std::uint64_t ooms = live.cgroup.oom_kill_count();
    auto next_stats = std::chrono::steady_clock::now();
    for (;;) {
        try {
            std::uint64_t now_ooms = live.cgroup.oom_kill_count();
            if (now_ooms > ooms) print(nlohmann::json({{"type", "oom"}, {"id", id}}).dump());
            ooms = now_ooms;
            if (std::chrono::steady_clock::now() >= next_stats) {
                print(nlohmann::json({{"type", "stats"}, {"id", id}, {"data", live.cgroup.stats()}})
                          .dump());
                next_stats += std::chrono::milliseconds(interval_ms);
            }
        } catch (const Error&) {
            return; // the cgroup went with the container
        }
        StateStore store(root_);
        try {
            ContainerDir dir = store.open_for_reading(id);
            if (dir.current_status(dir.read_record()) == oci::Status::stopped) return;
        } catch (const Error&) {
            return;
        }
        // OOM kills are checked more often than stats are printed.
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(interval_ms, 200)));
    }
}

} // namespace berth::runtime
