#include "berth/engine/volume_store.h"

#include <nlohmann/json.hpp>

namespace berth::engine {

namespace {

// Append only: a shipped migration never changes, a new one is added.
const std::vector<std::string> migrations = {
    "CREATE TABLE volumes ("
    " name TEXT PRIMARY KEY,"
    " created TEXT NOT NULL,"
    " labels TEXT NOT NULL DEFAULT '{}',"
    " anonymous INTEGER NOT NULL DEFAULT 0)",
};

VolumeRecord read_row(const image::Statement& row) {
    VolumeRecord record;
    record.name = row.text(0);
    record.created = row.text(1);
    auto labels = nlohmann::json::parse(row.text(2), nullptr, false);
    if (labels.is_object()) record.labels = labels.get<std::map<std::string, std::string>>();
    record.anonymous = row.integer(3) != 0;
    return record;
}

} // namespace

std::string volume_directory(const std::string& root, const std::string& name) {
    return root + "/volumes/" + name;
}

VolumeStore::VolumeStore(image::Database& database) : database_(database) {
    database_.migrate("volumes", migrations);
}

bool VolumeStore::insert(const VolumeRecord& record) {
    database_
        .prepare("INSERT OR IGNORE INTO volumes (name, created, labels, anonymous)"
                 " VALUES (?1, ?2, ?3, ?4)")
        .bind(1, record.name)
        .bind(2, record.created)
        .bind(3, nlohmann::json(record.labels).dump())
        .bind(4, std::int64_t{record.anonymous ? 1 : 0})
        .run();
    return database_.changes() == 1;
}

std::optional<VolumeRecord> VolumeStore::find(const std::string& name) {
    auto statement =
        database_.prepare("SELECT name, created, labels, anonymous FROM volumes WHERE name = ?1");
    statement.bind(1, name);
    if (!statement.step()) return std::nullopt;
    return read_row(statement);
}

std::vector<VolumeRecord> VolumeStore::list() {
    auto statement =
        database_.prepare("SELECT name, created, labels, anonymous FROM volumes ORDER BY name");
    std::vector<VolumeRecord> records;
    while (statement.step())
        records.push_back(read_row(statement));
    return records;
}

void VolumeStore::remove(const std::string& name) {
    database_.prepare("DELETE FROM volumes WHERE name = ?1").bind(1, name).run();
}

} // namespace berth::engine
