// The builder: stages and what the target needs, ARG scoping before FROM,
// FROM, the cache chain and commits, and the dispatch of each instruction.
#include "berth/build/builder.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/build/build_cache.h"
#include "berth/build/run_mount.h"
#include "berth/image/rootfs.h"
#include "berth/oci/reference.h"
#include "builder_internal.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <dirent.h>
#include <random>
#include <set>
#include <unistd.h>

namespace berth::build {

namespace detail {

Builder::Builder(const image::StoreOptions& store_options, engine::Engine& engine,
                 const BuildOptions& options)
    : store_options_(store_options), engine_(&engine), options_(options) {
    file_ = parse_dockerfile(options.dockerfile_text, options.dockerfile_name);
    created_ = rfc3339(options.source_date_epoch ? *options.source_date_epoch : std::time(nullptr));
    oci::Platform host = oci::host_platform();
    std::string platform =
        host.os + "/" + host.architecture + (host.variant.empty() ? "" : "/" + host.variant);
    for (const char* prefix : {"TARGET", "BUILD"}) {
        predefined_[std::string(prefix) + "PLATFORM"] = platform;
        predefined_[std::string(prefix) + "OS"] = host.os;
        predefined_[std::string(prefix) + "ARCH"] = host.architecture;
        predefined_[std::string(prefix) + "VARIANT"] = host.variant;
    }
}

// Work directories of builds that were killed (named "<pid>-..." or
// "context-<pid>-..."): their overlay unmounted and their files removed.
void Builder::remove_stale_work_dirs() {
    std::string base = store().root() + "/build";
    DIR* dir = ::opendir(base.c_str());
    if (!dir) return;
    std::vector<std::string> stale;
    while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        std::string rest = name.starts_with("context-") ? name.substr(8) : name;
        pid_t pid = static_cast<pid_t>(std::atoi(rest.c_str()));
        if (pid <= 0 || rest.find('-') == std::string::npos) continue;
        if (::kill(pid, 0) == 0 || errno == EPERM) continue; // its build still runs
        stale.push_back(base + "/" + name);
    }
    ::closedir(dir);
    for (const auto& path : stale) {
        try {
            image::unmount_rootfs(path);
            detail::remove_work_dir(path);
        } catch (const Error& error) {
            say("[Warning] cannot remove the stale build directory " + path + ": " + error.what());
        }
    }
}

image::Image Builder::build() {
    remove_stale_work_dirs();
    split_stages();
    int target = target_stage();
    std::set<int> needed;
    need(target, needed);
    for (int index : needed) {
        first_step_[index] = total_steps_;
        total_steps_ += 1 + static_cast<int>(stages_[index].body.size());
    }
    build_stages(needed);
    StageState& final_state = built_[target];
    if (!options_.labels.empty()) {
        std::string description = "LABELS";
        for (const auto& [key, value] : options_.labels) {
            final_state.config.config.labels[key] = value;
            description += " " + key + "=" + value;
        }
        final_state.committed.reset();
        final_state.cache_key = chain(final_state.cache_key, description);
        try_cache(final_state);
    }
    image::Image result = commit(final_state);
    std::vector<std::string> unused;
    for (const auto& [name, value] : options_.build_args)
        if (!consumed_args_.contains(name) && name != "SOURCE_DATE_EPOCH") unused.push_back(name);
    if (!unused.empty()) {
        std::string names;
        for (const auto& name : unused)
            names += (names.empty() ? "" : " ") + name;
        say("[Warning] One or more build-args [" + names + "] were not consumed");
    }
    // A rebuild that changed nothing finds its names in place: no write.
    bool named = std::all_of(options_.tags.begin(), options_.tags.end(), [&](const auto& tag) {
        std::string name = oci::parse_reference(tag).tagged_name();
        return std::find(result.names.begin(), result.names.end(), name) != result.names.end();
    });
    if (!named) result = store().add(result.manifest_digest, options_.tags);
    if (!named || options_.tags.empty()) cache().mark_intermediate(result.manifest_digest, false);
    return result;
}

void Builder::split_stages() {
    for (const auto& instruction : file_.instructions) {
        if (instruction.keyword == "FROM") {
            Stage stage;
            stage.index = static_cast<int>(stages_.size());
            stage.from = &instruction;
            auto words = split_quoted_words(instruction.arguments, file_.escape);
            if (words.empty()) fail_at(instruction, "FROM needs an image");
            if (words.size() == 3 && lower(words[1]) == "as") {
                stage.name = lower(words[2]);
                for (const auto& other : stages_)
                    if (other.name == stage.name)
                        fail_at(instruction, "duplicate stage name \"" + words[2] + "\"");
            } else if (words.size() != 1) {
                fail_at(instruction, "FROM takes an image and optionally AS name");
            }
            stages_.push_back(stage);
        } else if (stages_.empty()) {
            if (instruction.keyword != "ARG")
                fail_at(instruction,
                        instruction.keyword + " before the first FROM (only ARG may come first)");
            declare_global_args(instruction);
        } else {
            stages_.back().body.push_back(&instruction);
        }
    }
    if (stages_.empty()) fail(options_.dockerfile_name + ": no FROM instruction: nothing to build");
}

std::optional<std::string> Builder::global_value(const std::string& name) {
    auto it = global_args_.find(name);
    if (it != global_args_.end()) return it->second;
    auto predefined = predefined_.find(name);
    if (predefined != predefined_.end()) return predefined->second;
    return std::nullopt;
}

VariableLookup Builder::global_lookup() {
    return [this](const std::string& name) { return global_value(name); };
}

void Builder::declare_global_args(const Instruction& instruction) {
    for (const auto& word : split_quoted_words(instruction.arguments, file_.escape)) {
        auto [name, raw_default] = name_and_default(word);
        std::optional<std::string> value;
        if (auto given = options_.build_args.find(name); given != options_.build_args.end()) {
            value = given->second;
            consumed_args_.insert(name);
        } else if (word.find('=') != std::string::npos) {
            value = expand_word(raw_default, global_lookup(), file_.escape);
        }
        global_args_[name] = value;
    }
}

int Builder::stage_by_name(const std::string& name) {
    for (const auto& stage : stages_)
        if (!stage.name.empty() && stage.name == lower(name)) return stage.index;
    return -1;
}

int Builder::target_stage() {
    if (options_.target.empty()) return static_cast<int>(stages_.size()) - 1;
    int index = stage_by_name(options_.target);
    if (index < 0) fail("target stage \"" + options_.target + "\" could not be found");
    return index;
}

int Builder::referenced_stage(const std::string& reference, int before) {
    int index = stage_by_name(reference);
    if (index < 0 && !reference.empty() &&
        std::all_of(reference.begin(), reference.end(), ::isdigit)) {
        index = std::stoi(reference);
        if (index >= before) return -2;
    }
    return index < before ? index : -2;
}

void Builder::need(int index, std::set<int>& needed) {
    if (!needed.insert(index).second) return;
    for (int used : dependencies(index))
        need(used, needed);
}

std::set<int> Builder::dependencies(int index) {
    std::set<int> used;
    const Stage& stage = stages_[index];
    auto words = expand_words(stage.from->arguments, global_lookup(), file_.escape);
    if (!words.empty()) {
        int base = referenced_stage(words[0], index);
        if (base >= 0) used.insert(base);
    }
    for (const Instruction* instruction : stage.body) {
        if (instruction->keyword == "RUN") {
            // RUN --mount=type=bind,from=stage needs that stage.
            for (const auto& flag : instruction->flags) {
                if (flag.name != "mount" || !flag.value) continue;
                std::string from;
                try {
                    from = parse_run_mount(expand_word(*flag.value, global_lookup(), file_.escape))
                               .from;
                } catch (const Error&) {
                    continue; // reported with its line when the step runs
                }
                int source = from.empty() ? -1 : referenced_stage(from, index);
                if (source >= 0) used.insert(source);
            }
            continue;
        }
        if (instruction->keyword != "COPY") continue;
        const InstructionFlag* from = instruction->flag("from");
        if (!from || !from->value) continue;
        std::string reference = expand_word(*from->value, global_lookup(), file_.escape);
        int source = referenced_stage(reference, index);
        if (source == -2 && stage_by_name(reference) >= 0)
            fail_at(*instruction, "COPY --from=" + reference + " names a later stage");
        if (source >= 0) used.insert(source);
    }
    return used;
}

VariableLookup Builder::lookup_for(const StageState& state) {
    return [&state](const std::string& name) -> std::optional<std::string> {
        if (auto value = detail::env_value(state.config.config.env, name)) return value;
        auto arg = state.args.find(name);
        if (arg != state.args.end()) return arg->second;
        return std::nullopt;
    };
}

StageState Builder::build_stage(const Stage& stage) {
    current_stage_ = stage.index;
    step_number_ = first_step_[stage.index];
    StageState state;
    step(*stage.from, [&] { from(state, stage); });
    // A base image's ONBUILD triggers run here, and are not passed on.
    auto triggers = state.config.config.on_build;
    if (!triggers.empty()) {
        state.config.config.on_build.clear();
        state.committed.reset();
        state.cache_key = chain(state.cache_key, "ONBUILD triggers ran");
    }
    for (const auto& text : triggers) {
        say("# Executing ONBUILD trigger: " + text);
        Instruction trigger =
            parse_instruction(text, stage.from->line, file_.escape, options_.dockerfile_name);
        step(
            trigger, [&] { dispatch(state, trigger); }, false);
    }
    for (const Instruction* instruction : stage.body)
        step(*instruction, [&] { dispatch(state, *instruction); });
    return state;
}

void Builder::from(StageState& state, const Stage& stage) {
    auto words = expand_words(stage.from->arguments, global_lookup(), file_.escape);
    std::string base = words.at(0);
    oci::Platform wanted = oci::host_platform();
    if (const InstructionFlag* platform = stage.from->flag("platform")) {
        std::string text = expand_word(platform->value.value_or(""), global_lookup(), file_.escape);
        auto first = text.find('/');
        if (first == std::string::npos) fail("--platform=" + text + ": expected os/arch[/variant]");
        wanted.os = text.substr(0, first);
        std::string rest = text.substr(first + 1);
        auto second = rest.find('/');
        wanted.architecture = rest.substr(0, second);
        wanted.variant = second == std::string::npos ? "" : rest.substr(second + 1);
    }
    if (lower(base) == "scratch") {
        state.config.os = wanted.os;
        state.config.architecture = wanted.architecture;
        state.config.variant = wanted.variant;
        state.cache_key = oci::sha256_of("scratch " + wanted.os + "/" + wanted.architecture);
        return;
    }
    if (int source = referenced_stage(base, stage.index); source >= 0 && stage_by_name(base) >= 0) {
        StageState& built = built_.at(source);
        image::Image image = commit(built);
        adopt(state, image);
        state.cache_key = oci::sha256_of("stage " + image.manifest_digest.str());
        return;
    }
    if (options_.pull && options_.pull_image) {
        // Its own connection to berth.db, with ours closed meanwhile.
        store_access().close();
        say("Pulling " + base);
        options_.pull_image(base);
    }
    auto image = store().find(base);
    if (!image)
        fail("no such image: " + base +
             " (berth build uses the images in the store: pull or "
             "load it first)");
    if (const InstructionFlag* platform = stage.from->flag("platform")) {
        (void)platform;
        if (image->config.os != wanted.os || image->config.architecture != wanted.architecture ||
            (!wanted.variant.empty() && image->config.variant != wanted.variant))
            fail("image " + base + " is " + image->config.os + "/" + image->config.architecture +
                 ", not the platform asked for (" + wanted.os + "/" + wanted.architecture +
                 "): the store holds one platform per name");
    }
    adopt(state, *image);
    state.cache_key = oci::sha256_of("image " + image->manifest_digest.str());
}

void Builder::adopt(StageState& state, const image::Image& image) {
    state.config = image.config;
    state.layers = image.manifest.layers;
    state.committed = image;
}

bool Builder::try_cache(StageState& state) {
    if (options_.no_cache) return false;
    auto manifest = cache().find(state.cache_key);
    if (!manifest) return false;
    auto image = store().find(manifest->str());
    if (!image) {
        cache().forget(state.cache_key);
        return false;
    }
    adopt(state, *image);
    say(" ---> Using cache");
    return true;
}

image::Image Builder::commit(StageState& state) {
    if (state.committed) return *state.committed;
    state.config.created = created_;
    std::string json = oci::image_config_to_json(state.config);
    image::Image image = store().add_from_parts(json, state.layers, {});
    cache().record(state.cache_key, image.manifest_digest);
    cache().mark_intermediate(image.manifest_digest, true);
    state.committed = image;
    return image;
}

void Builder::add_history(StageState& state, const std::string& created_by, bool empty_layer) {
    state.config.history.push_back(
        oci::HistoryEntry{created_, created_by, "", "buildkit.dockerfile.v0", empty_layer});
}

void Builder::add_layer(StageState& state, const oci::Descriptor& layer,
                        const std::string& created_by) {
    state.layers.push_back(layer);
    state.config.diff_ids.push_back(layer.digest);
    add_history(state, created_by, false);
    state.committed.reset();
    image::Image image = commit(state);
    say(" ---> " + image.id.short_hex());
}

void Builder::dispatch(StageState& state, const Instruction& instruction) {
    const std::string& keyword = instruction.keyword;
    if (keyword == "FROM") fail("FROM cannot be an ONBUILD trigger");
    if (keyword == "ARG") return declare_stage_args(state, instruction);
    if (keyword == "RUN") return run(state, instruction);
    if (keyword == "COPY" || keyword == "ADD") return copy(state, instruction);
    detail::apply_config_instruction(state, instruction, lookup_for(state), file_.escape);
    add_history(state, instruction.text, true);
    state.committed.reset();
    oci::ImageConfig effect;
    effect.config = state.config.config;
    effect.author = state.config.author;
    state.cache_key = chain(state.cache_key, keyword + "\n" + oci::image_config_to_json(effect));
    try_cache(state);
}

} // namespace detail

image::Image build_image(const image::StoreOptions& store_options, engine::Engine& engine,
                         const BuildOptions& options) {
    return detail::Builder(store_options, engine, options).build();
}

} // namespace berth::build
