#include "berth/build/build_cache.h"

#include <ctime>

namespace berth::build {

namespace {

const std::vector<std::string> migrations = {
    "CREATE TABLE build_cache ("
    "  cache_key TEXT PRIMARY KEY,"
    "  manifest_digest TEXT NOT NULL,"
    "  recorded INTEGER NOT NULL)",
    "CREATE TABLE build_intermediates (manifest_digest TEXT PRIMARY KEY)",
};

} // namespace

BuildCache::BuildCache(image::Database& database) : database_(database) {
    database_.migrate("build", migrations);
}

std::optional<oci::Digest> BuildCache::find(const oci::Digest& key) {
    auto query = database_.prepare("SELECT manifest_digest FROM build_cache WHERE cache_key = ?1");
    query.bind(1, key.str());
    if (!query.step()) return std::nullopt;
    return oci::Digest::parse(query.text(0));
}

void BuildCache::record(const oci::Digest& key, const oci::Digest& manifest_digest) {
    database_
        .prepare("INSERT INTO build_cache (cache_key, manifest_digest, recorded) "
                 "VALUES (?1, ?2, ?3) ON CONFLICT(cache_key) DO UPDATE SET "
                 "manifest_digest = excluded.manifest_digest, recorded = excluded.recorded")
        .bind(1, key.str())
        .bind(2, manifest_digest.str())
        .bind(3, static_cast<std::int64_t>(std::time(nullptr)))
        .run();
}

void BuildCache::forget(const oci::Digest& key) {
    database_.prepare("DELETE FROM build_cache WHERE cache_key = ?1").bind(1, key.str()).run();
}

void BuildCache::mark_intermediate(const oci::Digest& manifest_digest, bool intermediate) {
    database_
        .prepare(intermediate ? "INSERT INTO build_intermediates (manifest_digest) VALUES (?1) "
                                "ON CONFLICT(manifest_digest) DO NOTHING"
                              : "DELETE FROM build_intermediates WHERE manifest_digest = ?1")
        .bind(1, manifest_digest.str())
        .run();
}

std::set<oci::Digest> BuildCache::intermediates() {
    std::set<oci::Digest> digests;
    auto query = database_.prepare("SELECT manifest_digest FROM build_intermediates");
    while (query.step())
        digests.insert(oci::Digest::parse(query.text(0)));
    return digests;
}

} // namespace berth::build
