// The builder's state across a build (internal to src/build): the stages,
// the scope of ARGs, the cache chain. Orchestration and FROM live in
// builder.cpp, the ARG, RUN, COPY and ADD steps in builder_steps.cpp.
#pragma once

#include "berth/build/build_cache.h"
#include "berth/build/builder.h"
#include "build_steps.h"
#include "run_mounts.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <memory>
#include <random>
#include <set>
#include <unistd.h>

namespace berth::build::detail {

struct Stage {
    int index = 0;
    std::string name; // lower case; "" without AS
    const Instruction* from = nullptr;
    std::vector<const Instruction*> body;
};

inline std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), ::tolower);
    return text;
}

inline std::string rfc3339(std::time_t when) {
    std::tm utc{};
    ::gmtime_r(&when, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

inline oci::Digest chain(const oci::Digest& parent, const std::string& step) {
    return oci::sha256_of(parent.str() + "\n" + step);
}

inline std::string random_hex() {
    std::random_device random;
    char text[17];
    std::snprintf(text, sizeof text, "%08x%08x", random(), random());
    return text;
}

inline std::pair<std::string, std::string> name_and_default(const std::string& word) {
    auto equals = word.find('=');
    if (equals == std::string::npos) return {word, ""};
    return {word.substr(0, equals), word.substr(equals + 1)};
}

// "<<EOF", "<<-EOF", "<<'EOF'": the heredoc a COPY source names, if any.
inline std::optional<std::string> heredoc_name(const std::string& word) {
    if (!word.starts_with("<<")) return std::nullopt;
    std::string name = word.substr(2);
    if (!name.empty() && name.front() == '-') name.erase(0, 1);
    if (name.size() >= 2 && (name.front() == '"' || name.front() == '\'') &&
        name.back() == name.front())
        name = name.substr(1, name.size() - 2);
    return name;
}

// A stage being built in a worker process (stage_workers.cpp).
struct Worker {
    int stage = 0;
    UniqueFd report; // the read end of the worker's pipe, non-blocking
    UniqueFd pidfd;  // readable once the worker has exited
    std::string text;
};

class Builder {
  public:
    Builder(const image::StoreOptions& store_options, engine::Engine& engine,
            const BuildOptions& options);

    image::Image build();

  private:
    image::ImageStore& store() {
        if (!store_) {
            store_ = std::make_unique<image::ImageStore>(store_options_);
            cache_ = std::make_unique<BuildCache>(store_->database());
        }
        return *store_;
    }
    BuildCache& cache() {
        store();
        return *cache_;
    }
    detail::StoreAccess store_access() {
        return {[this]() -> image::ImageStore& { return store(); },
                [this] {
                    cache_.reset();
                    store_.reset();
                }};
    }

    void say(const std::string& line) {
        if (!options_.quiet && options_.progress) options_.progress(say_prefix_ + line);
    }

    [[noreturn]] void fail_at(const Instruction& instruction, const std::string& message) {
        fail(options_.dockerfile_name + ":" + std::to_string(instruction.line) + ": " + message);
    }

    void remove_stale_work_dirs();
    void split_stages();

    std::optional<std::string> global_value(const std::string& name);

    VariableLookup global_lookup();

    void declare_global_args(const Instruction& instruction);

    int stage_by_name(const std::string& name);

    int target_stage();

    // A stage `reference` names, by name or index, before `before`; -1 if none.
    int referenced_stage(const std::string& reference, int before);

    void need(int index, std::set<int>& needed);
    // The stages `index` uses: its FROM, COPY --from and RUN --mount from=.
    std::set<int> dependencies(int index);

    // Builds the needed stages, those that do not depend on each other in
    // worker processes at the same time (stage_workers.cpp).
    void build_stages(const std::set<int>& needed);
    // Forks a worker for stage `index` and adds it to `running`.
    void start_worker(int index, std::map<pid_t, Worker>& running);
    // In a forked worker: builds the stage, commits it, reports on `fd`; never returns.
    [[noreturn]] void stage_worker(int index, int fd);
    StageState adopt_worker_result(const std::string& report, int index);

    VariableLookup lookup_for(const StageState& state);

    StageState build_stage(const Stage& stage);

    template <class Body>
    void step(const Instruction& instruction, Body&& body, bool count = true) {
        if (count)
            say("Step " + std::to_string(++step_number_) + "/" + std::to_string(total_steps_) +
                " : " + instruction.text);
        std::string where = options_.dockerfile_name + ":" + std::to_string(instruction.line) +
                            ": " + instruction.keyword;
        try {
            body();
        } catch (const RunStepFailed& error) {
            std::string text = instruction.text.size() > 80 ? instruction.text.substr(0, 77) + "..."
                                                            : instruction.text;
            throw RunStepFailed(options_.dockerfile_name + ":" + std::to_string(instruction.line) +
                                    ": " + text + ": " + error.what(),
                                error.exit_code());
        } catch (const Error& error) {
            std::string message = error.what();
            if (message.starts_with(options_.dockerfile_name + ":")) throw;
            throw Error(where + ": " + message, error.errno_value());
        }
    }

    void from(StageState& state, const Stage& stage);

    void adopt(StageState& state, const image::Image& image);

    bool try_cache(StageState& state);

    image::Image commit(StageState& state);

    void add_history(StageState& state, const std::string& created_by, bool empty_layer);

    void add_layer(StageState& state, const oci::Descriptor& layer, const std::string& created_by);

    void dispatch(StageState& state, const Instruction& instruction);

    void declare_stage_args(StageState& state, const Instruction& instruction);

    std::vector<std::string> run_env(const StageState& state);

    void run(StageState& state, const Instruction& instruction);

    // RUN --mount: parsed, sources found, their part of the key (run_mounts.cpp).
    void collect_mounts(StageState& state, const std::vector<std::string>& flags,
                        PreparedMounts& mounts);

    std::string new_work_dir() {
        return store().root() + "/build/" + std::to_string(::getpid()) + "-" + random_hex();
    }

    const SourceTree& context();

    void copy(StageState& state, const Instruction& instruction);

    int current_stage_limit() const { return current_stage_; }

    image::StoreOptions store_options_;
    std::unique_ptr<image::ImageStore> store_;
    std::unique_ptr<BuildCache> cache_;
    engine::Engine* engine_;
    std::unique_ptr<engine::Engine> worker_engine_; // a stage worker's own (stage_workers.cpp)
    const BuildOptions& options_;
    Dockerfile file_;
    std::string created_;
    std::map<std::string, std::optional<std::string>> global_args_;
    std::map<std::string, std::string> predefined_;
    std::vector<Stage> stages_;
    std::map<int, StageState> built_;
    std::unique_ptr<SourceTree> context_;
    std::set<std::string> consumed_args_;
    std::map<int, int> first_step_; // each stage's first step number, less one
    std::string say_prefix_;        // "[stage] " in a worker while others run too
    int step_number_ = 0;
    int total_steps_ = 0;
    int current_stage_ = 0;
};

} // namespace berth::build::detail
