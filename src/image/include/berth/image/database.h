// berth.db, the engine's SQLite database (WAL mode, so readers never wait
// for a writer). Each group of tables (the image index now, containers and
// volumes later) lives in its own file and upgrades itself through
// Database::migrate, which records its version in the schema_versions table.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace berth::image {

class Statement {
  public:
    Statement(sqlite3* db, sqlite3_stmt* statement) : db_(db), statement_(statement) {}
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&&) = delete;
    ~Statement();

    // Parameters are numbered from 1, as in SQL's "?1".
    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, std::int64_t value);
    Statement& bind_null(int index);
    // True while there is a row to read; false once done.
    bool step();
    // Runs a statement that returns no rows.
    void run() {
        while (step()) {
        }
    }
    std::string text(int column) const;
    std::int64_t integer(int column) const;
    bool is_null(int column) const;

  private:
    sqlite3* db_;
    sqlite3_stmt* statement_;
};

class Database {
  public:
    // Opens (creating) the database at `path` in WAL mode with a busy timeout,
    // since several berth commands may run at once.
    explicit Database(const std::string& path);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    void exec(std::string_view sql);
    Statement prepare(std::string_view sql);
    std::int64_t changes() const;

    // Runs `body` inside BEGIN IMMEDIATE ... COMMIT; an exception rolls back.
    void transaction(const std::function<void()>& body);

    // Applies migrations[v..] for `component`, where v is its stored version,
    // each in its own transaction, and records the new version.
    void migrate(std::string_view component, const std::vector<std::string>& migrations);

    // Checkpoints the WAL when it holds more than a few frames: for a process
    // that has done what anyone waits for (a monitor after reporting the
    // exit), so that the next command's first connection, which reads every
    // frame since the last checkpoint, finds few.
    void checkpoint_if_worthwhile();

  private:
    static int note_wal_commit(void* self, sqlite3* db, const char* schema, int frames);

    sqlite3* db_ = nullptr;
    std::string path_;
    int wal_frames_ = 0;
};

} // namespace berth::image
