#include "berth/engine/container_store.h"

#include "berth/base/error.h"

#include <nlohmann/json.hpp>

namespace berth::engine {

namespace {

// Append only: a shipped migration never changes, a new one is added.
const std::vector<std::string> migrations = {
    "CREATE TABLE containers ("
    " id TEXT PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " image_id TEXT NOT NULL,"
    " image_name TEXT NOT NULL,"
    " config TEXT NOT NULL,"
    " created TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " pid INTEGER NOT NULL DEFAULT 0,"
    " exit_code INTEGER NOT NULL DEFAULT 0,"
    " started TEXT NOT NULL DEFAULT '',"
    " finished TEXT NOT NULL DEFAULT '',"
    " error TEXT NOT NULL DEFAULT '',"
    " monitor_pid INTEGER NOT NULL DEFAULT 0,"
    " monitor_start_time INTEGER NOT NULL DEFAULT 0)",
    "ALTER TABLE containers ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0",
};

constexpr const char* columns =
    "id, name, image_id, image_name, config, created, state, pid, exit_code, started, finished,"
    " error, monitor_pid, monitor_start_time, restart_count";

ContainerRecord read_row(const image::Statement& row) {
    ContainerRecord record;
    record.id = row.text(0);
    record.name = row.text(1);
    record.image_id = row.text(2);
    record.image_name = row.text(3);
    record.config_json = row.text(4);
    record.created = row.text(5);
    record.state = parse_state(row.text(6));
    record.pid = row.integer(7);
    record.exit_code = row.integer(8);
    record.started = row.text(9);
    record.finished = row.text(10);
    record.error = row.text(11);
    record.monitor_pid = row.integer(12);
    record.monitor_start_time = row.integer(13);
    record.restart_count = row.integer(14);
    return record;
}

std::vector<ContainerRecord> query(image::Database& database, const std::string& where,
                                   std::string_view argument) {
    image::Statement statement =
        database.prepare(std::string("SELECT ") + columns + " FROM containers " + where);
    if (!argument.empty()) statement.bind(1, argument);
    std::vector<ContainerRecord> records;
    while (statement.step())
        records.push_back(read_row(statement));
    return records;
}

// Binds state .. monitor_start_time as ?1..?8, the id as ?9, restart_count as ?12.
image::Statement& bind_state(image::Statement& statement, const ContainerRecord& record) {
    return statement.bind(1, state_name(record.state))
        .bind(2, record.pid)
        .bind(3, record.exit_code)
        .bind(4, record.started)
        .bind(5, record.finished)
        .bind(6, record.error)
        .bind(7, record.monitor_pid)
        .bind(8, record.monitor_start_time)
        .bind(9, record.id)
        .bind(12, record.restart_count);
}

constexpr const char* update_sql =
    "UPDATE containers SET state = ?1, pid = ?2, exit_code = ?3, started = ?4, finished = ?5,"
    " error = ?6, monitor_pid = ?7, monitor_start_time = ?8, restart_count = ?12 WHERE id = ?9";

} // namespace

const char* state_name(ContainerState state) {
    switch (state) {
    case ContainerState::created:
        return "created";
    case ContainerState::running:
        return "running";
    case ContainerState::exited:
        return "exited";
    case ContainerState::removing:
        return "removing";
    case ContainerState::restarting:
        return "restarting";
    }
    return "unknown";
}

ContainerState parse_state(std::string_view name) {
    for (auto state : {ContainerState::created, ContainerState::running, ContainerState::exited,
                       ContainerState::removing, ContainerState::restarting})
        if (name == state_name(state)) return state;
    fail("berth.db: unknown container state \"" + std::string(name) + "\"");
}

ContainerStore::ContainerStore(image::Database& database) : database_(database) {
    database_.migrate("engine", migrations);
}

void ContainerStore::insert(const ContainerRecord& record) {
    database_.transaction([&] {
        if (auto holder = query(database_, "WHERE name = ?1", record.name); !holder.empty())
            throw NameConflict("Conflict. The container name \"/" + record.name +
                               "\" is already in use by container \"" + holder.front().id +
                               "\". You have to remove (or rename) that container to be able to "
                               "reuse that name.");
        database_
            .prepare(std::string("INSERT INTO containers (") + columns +
                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)")
            .bind(1, record.id)
            .bind(2, record.name)
            .bind(3, record.image_id)
            .bind(4, record.image_name)
            .bind(5, record.config_json)
            .bind(6, record.created)
            .bind(7, state_name(record.state))
            .bind(8, record.pid)
            .bind(9, record.exit_code)
            .bind(10, record.started)
            .bind(11, record.finished)
            .bind(12, record.error)
            .bind(13, record.monitor_pid)
            .bind(14, record.monitor_start_time)
            .bind(15, record.restart_count)
            .run();
    });
}

std::optional<ContainerRecord> ContainerStore::find(std::string_view reference) {
    if (reference.empty()) return std::nullopt;
    std::string_view name = reference.front() == '/' ? reference.substr(1) : reference;
    // Docker's order: a full id, then an exact name, then an id prefix.
    if (auto exact = query(database_, "WHERE id = ?1", reference); !exact.empty())
        return exact.front();
    if (auto named = query(database_, "WHERE name = ?1", name); !named.empty())
        return named.front();
    if (reference.find_first_not_of("0123456789abcdef") != std::string_view::npos)
        return std::nullopt;
    auto matches = query(database_, "WHERE id >= ?1 ORDER BY id LIMIT 2", reference);
    std::erase_if(matches, [&](const ContainerRecord& r) { return !r.id.starts_with(reference); });
    if (matches.size() > 1)
        fail("multiple containers match \"" + std::string(reference) + "\": give more of the id");
    if (matches.empty()) return std::nullopt;
    return matches.front();
}

ContainerRecord ContainerStore::get(std::string_view reference) {
    auto record = find(reference);
    if (!record) fail("no such container: " + std::string(reference));
    return *record;
}

std::vector<ContainerRecord> ContainerStore::list() {
    return query(database_, "ORDER BY created DESC", {});
}

bool ContainerStore::name_in_use(std::string_view name) {
    return !query(database_, "WHERE name = ?1", name).empty();
}

std::map<std::string, std::string> ContainerStore::image_users() {
    std::map<std::string, std::string> users;
    image::Statement statement = database_.prepare("SELECT image_id, name FROM containers");
    while (statement.step())
        users.emplace(statement.text(0), statement.text(1));
    return users;
}

void ContainerStore::update_state(const ContainerRecord& record) {
    image::Statement statement = database_.prepare(update_sql);
    bind_state(statement, record).run();
}

bool ContainerStore::update_state_if(const ContainerRecord& record, ContainerState expected_state,
                                     std::int64_t expected_monitor) {
    image::Statement statement =
        database_.prepare(std::string(update_sql) + " AND state = ?10 AND monitor_pid = ?11");
    bind_state(statement, record)
        .bind(10, state_name(expected_state))
        .bind(11, expected_monitor)
        .run();
    return database_.changes() == 1;
}

void ContainerStore::rename(std::string_view id, const std::string& name) {
    database_.transaction([&] {
        if (auto holder = query(database_, "WHERE name = ?1", name); !holder.empty())
            throw NameConflict("Conflict. The container name \"/" + name +
                               "\" is already in use by container \"" + holder.front().id +
                               "\". You have to remove (or rename) that container to be able to "
                               "reuse that name.");
        auto found = query(database_, "WHERE id = ?1", id);
        if (found.empty()) fail("no such container: " + std::string(id));
        nlohmann::json config = nlohmann::json::parse(found.front().config_json, nullptr, false);
        if (config.is_object()) config["name"] = name;
        database_.prepare("UPDATE containers SET name = ?1, config = ?2 WHERE id = ?3")
            .bind(1, name)
            .bind(2, config.is_object() ? config.dump() : found.front().config_json)
            .bind(3, id)
            .run();
    });
}

void ContainerStore::remove(std::string_view id) {
    database_.prepare("DELETE FROM containers WHERE id = ?1").bind(1, id).run();
}

} // namespace berth::engine
