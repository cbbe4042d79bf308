#include "berth/image/database.h"

#include "berth/base/error.h"

#include <sqlite3.h>
#include <utility>

namespace berth::image {

namespace {

[[noreturn]] void sqlite_fail(sqlite3* db, std::string_view what) {
    fail(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

} // namespace

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), statement_(std::exchange(other.statement_, nullptr)) {}

Statement::~Statement() {
    sqlite3_finalize(statement_);
}

Statement& Statement::bind(int index, std::string_view text) {
    if (sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                          SQLITE_TRANSIENT) != SQLITE_OK)
        sqlite_fail(db_, "binding a query parameter");
    return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
    if (sqlite3_bind_int64(statement_, index, value) != SQLITE_OK)
        sqlite_fail(db_, "binding a query parameter");
    return *this;
}

Statement& Statement::bind_null(int index) {
    if (sqlite3_bind_null(statement_, index) != SQLITE_OK)
        sqlite_fail(db_, "binding a query parameter");
    return *this;
}

bool Statement::step() {
    int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) {
        sqlite3_reset(statement_);
        return false;
    }
    std::string message = sqlite3_errmsg(db_);
    sqlite3_reset(statement_);
    fail("database query failed: " + message);
}

std::string Statement::text(int column) const {
    auto* data = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
    return data ? std::string(data,
                              static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)))
                : std::string();
}

std::int64_t Statement::integer(int column) const {
    return sqlite3_column_int64(statement_, column);
}

bool Statement::is_null(int column) const {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

// Several berth commands may use the database at once; none holds it long.
constexpr int busy_timeout_ms = 10000;

Database::Database(const std::string& path) : path_(path) {
    int rc =
        sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        fail("opening the database " + path + ": " + message);
    }
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    // Every berth command is a short process, so each would be the last
    // connection to close: SQLite would then checkpoint (two fsyncs) and
    // delete the WAL and its index, ~10 ms of a 50 ms `run`. The WAL stays,
    // and checkpoints come when it grows past SQLite's threshold instead.
    int persist_wal = 1;
    sqlite3_file_control(db_, "main", SQLITE_FCNTL_PERSIST_WAL, &persist_wal);
    sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    sqlite3_wal_hook(db_, &Database::note_wal_commit, this);
    with_context("opening the database " + path, [&] {
        exec("PRAGMA journal_mode=WAL");
        exec("PRAGMA synchronous=NORMAL");
        exec("PRAGMA foreign_keys=ON");
        exec("CREATE TABLE IF NOT EXISTS schema_versions ("
             "component TEXT PRIMARY KEY, version INTEGER NOT NULL)");
    });
}

// The first connection of every command rebuilds the WAL's index by reading
// each frame the WAL file holds (~0.6 ms per MB): the index, in shared
// memory, dies with the last connection and with it the record of what was
// checkpointed. Only a truncated WAL costs nothing to reopen, and truncating
// costs three fdatasyncs (10-30 ms here), so it happens where nobody waits
// (checkpoint_if_worthwhile, called by a monitor after reporting the exit),
// and on a commit only past SQLite's usual threshold, as a backstop for a
// store where no container ever exits.
constexpr int wal_frames_worth_a_checkpoint = 128;
constexpr int wal_frames_forcing_a_checkpoint = 1000;

namespace {

void truncate_wal(sqlite3* db) {
    // A reader or writer of another command makes this give up (it comes
    // again later) rather than wait: it must not hold that command up.
    sqlite3_busy_timeout(db, 0);
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    sqlite3_busy_timeout(db, busy_timeout_ms);
}

} // namespace

int Database::note_wal_commit(void* self, sqlite3* db, const char*, int frames) {
    static_cast<Database*>(self)->wal_frames_ = frames;
    if (frames >= wal_frames_forcing_a_checkpoint) truncate_wal(db);
    return SQLITE_OK;
}

void Database::checkpoint_if_worthwhile() {
    if (wal_frames_ < wal_frames_worth_a_checkpoint) return;
    truncate_wal(db_);
    wal_frames_ = 0;
}

Database::~Database() {
    sqlite3_close(db_);
}

void Database::exec(std::string_view sql) {
    std::string statement(sql);
    char* error = nullptr;
    if (sqlite3_exec(db_, statement.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
        std::string message = error ? error : sqlite3_errmsg(db_);
        sqlite3_free(error);
        fail("database: " + message);
    }
}

Statement Database::prepare(std::string_view sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &statement, nullptr) !=
        SQLITE_OK)
        sqlite_fail(db_, "preparing a database query");
    return Statement(db_, statement);
}

std::int64_t Database::changes() const {
    return sqlite3_changes64(db_);
}

void Database::transaction(const std::function<void()>& body) {
    exec("BEGIN IMMEDIATE");
    try {
        body();
        exec("COMMIT");
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

void Database::migrate(std::string_view component, const std::vector<std::string>& migrations) {
    // Most commands find the schema current: a read, with no write
    // transaction (and no WAL sync) to pay for.
    try {
        Statement current = prepare("SELECT version FROM schema_versions WHERE component = ?1");
        current.bind(1, component);
        if (current.step() && current.integer(0) == static_cast<std::int64_t>(migrations.size()))
            return;
    } catch (const Error&) {
        // No schema_versions table yet: the transaction below makes it.
    }
    transaction([&] {
        Statement query = prepare("SELECT version FROM schema_versions WHERE component = ?1");
        query.bind(1, component);
        std::int64_t version = query.step() ? query.integer(0) : 0;
        query.run();
        if (version > static_cast<std::int64_t>(migrations.size()))
            fail("the database " + path_ + " was written by a newer berth (" +
                 std::string(component) + " schema version " + std::to_string(version) + ")");
        for (auto i = static_cast<std::size_t>(version); i < migrations.size(); ++i)
            exec(migrations[i]);
        prepare("INSERT INTO schema_versions (component, version) VALUES (?1, ?2) "
                "ON CONFLICT(component) DO UPDATE SET version = excluded.version")
            .bind(1, component)
            .bind(2, static_cast<std::int64_t>(migrations.size()))
            .run();
    });
}

} // namespace berth::image
