// The containers table of berth.db: what `ps` lists and `inspect` shows,
// written by the command line (create, rm) and by each container's monitor
// (running, exited). Every change is one statement or one transaction, and
// SQLite's busy timeout makes concurrent commands wait rather than fail.
#pragma once

#include "berth/base/error.h"
#include "berth/image/database.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::engine {

// Docker's states; "removing" marks a container whose files are going,
// "restarting" one whose monitor waits to start it again (its restart policy).
enum class ContainerState { created, running, exited, removing, restarting };

const char* state_name(ContainerState state);
ContainerState parse_state(std::string_view name);

struct ContainerRecord {
    std::string id;   // 64 hex
    std::string name; // without Docker's leading "/"
    std::string image_id;
    std::string image_name;  // as the user named it
    std::string config_json; // the RunRequest, as JSON
    std::string created;     // RFC 3339 with nanoseconds
    ContainerState state = ContainerState::created;
    std::int64_t pid = 0;
    std::int64_t exit_code = 0;
    std::string started;  // "" until first started
    std::string finished; // "" until first exited
    std::string error;    // why the last start failed, or the monitor was lost
    std::int64_t monitor_pid = 0;
    std::int64_t monitor_start_time = 0; // /proc/PID/stat starttime, against pid reuse
    // Not stored: Engine::get and list ask the runtime whether a running one is frozen.
    bool paused = false;
    std::int64_t restart_count = 0; // restarts by the policy since the last `start`
};

// The name is in use (Docker's "Conflict"): create refuses, nothing is made.
class NameConflict : public Error {
  public:
    using Error::Error;
};

class ContainerStore {
  public:
    // Creates or upgrades the "engine" tables.
    explicit ContainerStore(image::Database& database);

    // Throws NameConflict if the name is taken.
    void insert(const ContainerRecord& record);
    // By full id, exact name, or unique id prefix; Error if ambiguous.
    std::optional<ContainerRecord> find(std::string_view reference);
    // find, or Error "no such container: X".
    ContainerRecord get(std::string_view reference);
    std::vector<ContainerRecord> list(); // newest first
    bool name_in_use(std::string_view name);
    // Image ID → the name of one container made from it (rmi and prune spare these).
    std::map<std::string, std::string> image_users();

    // Writes the state fields (state .. monitor) of `record`.
    void update_state(const ContainerRecord& record);
    // As update_state, but only if the stored state and monitor pid still are
    // `expected_state`/`expected_monitor`: of two commands that find the same
    // dead monitor, exactly one wins and cleans up. True if this one won.
    bool update_state_if(const ContainerRecord& record, ContainerState expected_state,
                         std::int64_t expected_monitor);
    void remove(std::string_view id);
    // Gives the container `name` (and its stored request the same), or NameConflict.
    void rename(std::string_view id, const std::string& name);

  private:
    image::Database& database_;
};

} // namespace berth::engine
