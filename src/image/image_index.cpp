#include "image_index.h"

#include "berth/base/error.h"

#include <map>

namespace berth::image {

namespace {

// Append only: each string upgrades the tables by one version.
const std::vector<std::string> migrations = {
    "CREATE TABLE images ("
    "  manifest_digest TEXT PRIMARY KEY,"
    "  config_digest TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  created TEXT NOT NULL,"
    "  added INTEGER NOT NULL);"
    "CREATE INDEX images_by_config ON images(config_digest);"
    "CREATE TABLE image_names ("
    "  name TEXT PRIMARY KEY,"
    "  manifest_digest TEXT NOT NULL REFERENCES images(manifest_digest) ON DELETE CASCADE);"
    "CREATE INDEX image_names_by_manifest ON image_names(manifest_digest);",
};

} // namespace

ImageIndex::ImageIndex(Database& db) : db_(db) {
    db_.migrate("image_index", migrations);
}

void ImageIndex::add(const ImageRecord& record) {
    db_.prepare("INSERT INTO images (manifest_digest, config_digest, size, created, added) "
                "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(manifest_digest) DO NOTHING")
        .bind(1, record.manifest_digest.str())
        .bind(2, record.config_digest.str())
        .bind(3, record.size)
        .bind(4, record.created)
        .bind(5, record.added)
        .run();
}

void ImageIndex::set_name(const std::string& name, const oci::Digest& manifest_digest) {
    db_.prepare("INSERT INTO image_names (name, manifest_digest) VALUES (?1, ?2) "
                "ON CONFLICT(name) DO UPDATE SET manifest_digest = excluded.manifest_digest")
        .bind(1, name)
        .bind(2, manifest_digest.str())
        .run();
}

bool ImageIndex::remove_name(const std::string& name) {
    db_.prepare("DELETE FROM image_names WHERE name = ?1").bind(1, name).run();
    return db_.changes() > 0;
}

void ImageIndex::remove_image(const oci::Digest& manifest_digest) {
    db_.prepare("DELETE FROM images WHERE manifest_digest = ?1")
        .bind(1, manifest_digest.str())
        .run();
}

void ImageIndex::set_size(const oci::Digest& manifest_digest, std::int64_t size) {
    db_.prepare("UPDATE images SET size = ?2 WHERE manifest_digest = ?1")
        .bind(1, manifest_digest.str())
        .bind(2, size)
        .run();
}

std::vector<ImageRecord> ImageIndex::query(const std::string& where, const std::string& argument) {
    std::string sql =
        "SELECT i.manifest_digest, i.config_digest, i.size, i.created, i.added, n.name "
        "FROM images i LEFT JOIN image_names n ON n.manifest_digest = i.manifest_digest " +
        where + " ORDER BY i.added DESC, i.manifest_digest, n.name";
    Statement statement = db_.prepare(sql);
    if (!argument.empty()) statement.bind(1, argument);
    std::vector<ImageRecord> records;
    std::map<std::string, std::size_t> position;
    while (statement.step()) {
        std::string manifest = statement.text(0);
        auto found = position.find(manifest);
        if (found == position.end()) {
            ImageRecord record;
            record.manifest_digest = oci::Digest::parse(manifest);
            record.config_digest = oci::Digest::parse(statement.text(1));
            record.size = statement.integer(2);
            record.created = statement.text(3);
            record.added = statement.integer(4);
            found = position.emplace(manifest, records.size()).first;
            records.push_back(std::move(record));
        }
        if (!statement.is_null(5)) records[found->second].names.push_back(statement.text(5));
    }
    return records;
}

std::vector<ImageRecord> ImageIndex::all() {
    return query("", "");
}

std::optional<ImageRecord> ImageIndex::by_name(const std::string& name) {
    auto records = query("WHERE i.manifest_digest = "
                         "(SELECT manifest_digest FROM image_names WHERE name = ?1)",
                         name);
    if (records.empty()) return std::nullopt;
    return records.front();
}

std::optional<ImageRecord> ImageIndex::by_manifest(const oci::Digest& manifest_digest) {
    auto records = query("WHERE i.manifest_digest = ?1", manifest_digest.str());
    if (records.empty()) return std::nullopt;
    return records.front();
}

std::vector<ImageRecord> ImageIndex::by_hex_prefix(const std::string& hex_prefix) {
    for (char c : hex_prefix)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
    return query("WHERE i.config_digest LIKE ?1 OR i.manifest_digest LIKE ?1",
                 "sha256:" + hex_prefix + "%");
}

} // namespace berth::image
