// The builder: stages, ARG scoping, the cache chain, and the dispatch of
// each instruction to its step.
#include "berth/build/builder.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/build/build_cache.h"
#include "berth/image/rootfs.h"
#include "berth/oci/reference.h"
#include "build_steps.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <random>
#include <set>

namespace berth::build {

namespace {

using detail::StageState;

struct Stage {
    int index = 0;
    std::string name; // lower case; "" without AS
    const Instruction* from = nullptr;
    std::vector<const Instruction*> body;
};

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), ::tolower);
    return text;
}

std::string rfc3339(std::time_t when) {
    std::tm utc{};
    ::gmtime_r(&when, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

oci::Digest chain(const oci::Digest& parent, const std::string& step) {
    return oci::sha256_of(parent.str() + "\n" + step);
}

std::string random_hex() {
    std::random_device random;
    char text[17];
    std::snprintf(text, sizeof text, "%08x%08x", random(), random());
    return text;
}

std::pair<std::string, std::string> name_and_default(const std::string& word) {
    auto equals = word.find('=');
    if (equals == std::string::npos) return {word, ""};
    return {word.substr(0, equals), word.substr(equals + 1)};
}

// "<<EOF", "<<-EOF", "<<'EOF'": the heredoc a COPY source names, if any.
std::optional<std::string> heredoc_name(const std::string& word) {
    if (!word.starts_with("<<")) return std::nullopt;
    std::string name = word.substr(2);
    if (!name.empty() && name.front() == '-') name.erase(0, 1);
    if (name.size() >= 2 && (name.front() == '"' || name.front() == '\'') &&
        name.back() == name.front())
        name = name.substr(1, name.size() - 2);
    return name;
}

class Builder {
  public:
    Builder(const image::StoreOptions& store_options, engine::Engine& engine,
            const BuildOptions& options)
        : store_options_(store_options), engine_(engine), options_(options) {
        file_ = parse_dockerfile(options.dockerfile_text, options.dockerfile_name);
        created_ =
            rfc3339(options.source_date_epoch ? *options.source_date_epoch : std::time(nullptr));
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

    image::Image build() {
        split_stages();
        int target = target_stage();
        std::set<int> needed;
        need(target, needed);
        for (int index : needed)
            total_steps_ += 1 + static_cast<int>(stages_[index].body.size());
        for (int index : needed)
            built_[index] = build_stage(stages_[index]);
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
            if (!consumed_args_.contains(name)) unused.push_back(name);
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
        return result;
    }

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
        if (!options_.quiet && options_.progress) options_.progress(line);
    }

    [[noreturn]] void fail_at(const Instruction& instruction, const std::string& message) {
        fail(options_.dockerfile_name + ":" + std::to_string(instruction.line) + ": " + message);
    }

    void split_stages() {
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
                    fail_at(instruction, instruction.keyword +
                                             " before the first FROM (only ARG may come first)");
                declare_global_args(instruction);
            } else {
                stages_.back().body.push_back(&instruction);
            }
        }
        if (stages_.empty())
            fail(options_.dockerfile_name + ": no FROM instruction: nothing to build");
    }

    std::optional<std::string> global_value(const std::string& name) {
        auto it = global_args_.find(name);
        if (it != global_args_.end()) return it->second;
        auto predefined = predefined_.find(name);
        if (predefined != predefined_.end()) return predefined->second;
        return std::nullopt;
    }

    VariableLookup global_lookup() {
        return [this](const std::string& name) { return global_value(name); };
    }

    void declare_global_args(const Instruction& instruction) {
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

    int stage_by_name(const std::string& name) {
        for (const auto& stage : stages_)
            if (!stage.name.empty() && stage.name == lower(name)) return stage.index;
        return -1;
    }

    int target_stage() {
        if (options_.target.empty()) return static_cast<int>(stages_.size()) - 1;
        int index = stage_by_name(options_.target);
        if (index < 0) fail("target stage \"" + options_.target + "\" could not be found");
        return index;
    }

    // A stage `reference` names, by name or index, before `before`; -1 if none.
    int referenced_stage(const std::string& reference, int before) {
        int index = stage_by_name(reference);
        if (index < 0 && !reference.empty() &&
            std::all_of(reference.begin(), reference.end(), ::isdigit)) {
            index = std::stoi(reference);
            if (index >= before) return -2;
        }
        return index < before ? index : -2;
    }

    void need(int index, std::set<int>& needed) {
        if (!needed.insert(index).second) return;
        const Stage& stage = stages_[index];
        auto words = expand_words(stage.from->arguments, global_lookup(), file_.escape);
        if (!words.empty()) {
            int base = referenced_stage(words[0], index);
            if (base >= 0) need(base, needed);
        }
        for (const Instruction* instruction : stage.body) {
            if (instruction->keyword != "COPY") continue;
            const InstructionFlag* from = instruction->flag("from");
            if (!from || !from->value) continue;
            std::string reference = expand_word(*from->value, global_lookup(), file_.escape);
            int source = referenced_stage(reference, index);
            if (source == -2 && stage_by_name(reference) >= 0)
                fail_at(*instruction, "COPY --from=" + reference + " names a later stage");
            if (source >= 0) need(source, needed);
        }
    }

    VariableLookup lookup_for(const StageState& state) {
        return [&state](const std::string& name) -> std::optional<std::string> {
            if (auto value = detail::env_value(state.config.config.env, name)) return value;
            auto arg = state.args.find(name);
            if (arg != state.args.end()) return arg->second;
            return std::nullopt;
        };
    }

    StageState build_stage(const Stage& stage) {
        current_stage_ = stage.index;
        StageState state;
        step(*stage.from, [&] { from(state, stage); });
        auto triggers = state.config.config.on_build;
        state.config.config.on_build.clear();
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

    void from(StageState& state, const Stage& stage) {
        auto words = expand_words(stage.from->arguments, global_lookup(), file_.escape);
        std::string base = words.at(0);
        oci::Platform wanted = oci::host_platform();
        if (const InstructionFlag* platform = stage.from->flag("platform")) {
            std::string text =
                expand_word(platform->value.value_or(""), global_lookup(), file_.escape);
            auto first = text.find('/');
            if (first == std::string::npos)
                fail("--platform=" + text + ": expected os/arch[/variant]");
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
        if (int source = referenced_stage(base, stage.index);
            source >= 0 && stage_by_name(base) >= 0) {
            StageState& built = built_.at(source);
            image::Image image = commit(built);
            adopt(state, image);
            state.cache_key = oci::sha256_of("stage " + image.manifest_digest.str());
            return;
        }
        auto image = store().find(base);
        if (!image)
            fail("no such image: " + base +
                 " (berth build uses the images in the store: pull or "
                 "load it first)");
        if (const InstructionFlag* platform = stage.from->flag("platform")) {
            (void)platform;
            if (image->config.os != wanted.os ||
                image->config.architecture != wanted.architecture ||
                (!wanted.variant.empty() && image->config.variant != wanted.variant))
                fail("image " + base + " is " + image->config.os + "/" +
                     image->config.architecture + ", not the platform asked for (" + wanted.os +
                     "/" + wanted.architecture + "): the store holds one platform per name");
        }
        adopt(state, *image);
        state.cache_key = oci::sha256_of("image " + image->manifest_digest.str());
    }

    void adopt(StageState& state, const image::Image& image) {
        state.config = image.config;
        state.layers = image.manifest.layers;
        state.committed = image;
    }

    bool try_cache(StageState& state) {
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

    image::Image commit(StageState& state) {
        if (state.committed) return *state.committed;
        state.config.created = created_;
        std::string json = oci::image_config_to_json(state.config);
        image::Image image = store().add_from_parts(json, state.layers, {});
        cache().record(state.cache_key, image.manifest_digest);
        state.committed = image;
        return image;
    }

    void add_history(StageState& state, const std::string& created_by, bool empty_layer) {
        state.config.history.push_back(
            oci::HistoryEntry{created_, created_by, "", "buildkit.dockerfile.v0", empty_layer});
    }

    void add_layer(StageState& state, const oci::Descriptor& layer, const std::string& created_by) {
        state.layers.push_back(layer);
        state.config.diff_ids.push_back(layer.digest);
        add_history(state, created_by, false);
        state.committed.reset();
        image::Image image = commit(state);
        say(" ---> " + image.id.short_hex());
    }

    void dispatch(StageState& state, const Instruction& instruction) {
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
        state.cache_key =
            chain(state.cache_key, keyword + "\n" + oci::image_config_to_json(effect));
        try_cache(state);
    }

    void declare_stage_args(StageState& state, const Instruction& instruction) {
        std::string description = "ARG";
        for (const auto& word : split_quoted_words(instruction.arguments, file_.escape)) {
            auto [name, raw_default] = name_and_default(word);
            if (name.empty()) fail("ARG needs a name");
            std::optional<std::string> value;
            if (auto given = options_.build_args.find(name); given != options_.build_args.end()) {
                value = given->second;
                consumed_args_.insert(name);
            } else if (word.find('=') != std::string::npos) {
                value = expand_word(raw_default, lookup_for(state), file_.escape);
            } else {
                value = global_value(name);
            }
            state.args[name] = value;
            description += " " + name + (value ? "=" + *value : "");
        }
        state.cache_key = chain(state.cache_key, description);
    }

    std::vector<std::string> run_env(const StageState& state) {
        std::vector<std::string> env = state.config.config.env;
        for (const auto& [name, value] : state.args)
            if (value && !detail::env_value(env, name)) env.push_back(name + "=" + *value);
        return env;
    }

    void run(StageState& state, const Instruction& instruction) {
        std::string network = "bridge";
        for (const auto& flag : instruction.flags) {
            if (flag.name == "network") {
                std::string value = flag.value.value_or("");
                if (value == "none" || value == "host")
                    network = value;
                else if (value != "default")
                    fail("--network=" + value + ": use default, none or host");
            } else {
                fail("RUN --" + flag.name + " is not supported yet");
            }
        }
        std::vector<std::string> args;
        if (instruction.json_form) {
            args = instruction.json_arguments;
            if (args.empty()) fail("RUN needs a command");
        } else {
            std::string script = instruction.arguments;
            if (!instruction.heredocs.empty()) {
                std::string trimmed = script;
                trimmed.erase(trimmed.find_last_not_of(" \t") + 1);
                if (instruction.heredocs.size() == 1 && heredoc_name(trimmed) &&
                    trimmed.find_first_of(" \t") == std::string::npos) {
                    script = instruction.heredocs[0].body; // RUN <<EOF: the body is the script
                } else {
                    for (const auto& heredoc : instruction.heredocs)
                        script += "\n" + heredoc.body + heredoc.delimiter;
                }
            }
            if (script.empty()) fail("RUN needs a command");
            args = detail::shell_of(state.config.config);
            args.push_back(script);
        }
        detail::RunSpec spec;
        spec.args = args;
        spec.env = run_env(state);
        spec.workdir = state.config.config.working_dir;
        spec.user = state.config.config.user;
        spec.network = network;
        spec.quiet = options_.quiet;
        spec.clamp_mtime = options_.source_date_epoch;
        std::string description = "RUN\n" + nlohmann::json(args).dump() + "\n" +
                                  nlohmann::json(spec.env).dump() + "\nnetwork=" + network;
        state.cache_key = chain(state.cache_key, description);
        if (try_cache(state)) return;
        image::Image base = commit(state);
        oci::Descriptor layer = detail::run_step(engine_, store_access(), base, spec);
        add_layer(state, layer, instruction.text);
    }

    const SourceTree& context() {
        if (!context_) {
            if (options_.context_dir.empty())
                fail("no build context: the Dockerfile came on stdin without one");
            context_ = std::make_unique<SourceTree>(SourceTree::context(options_.context_dir));
        }
        return *context_;
    }

    void copy(StageState& state, const Instruction& instruction) {
        bool add = instruction.keyword == "ADD";
        VariableLookup lookup = lookup_for(state);
        detail::CopySpec spec;
        spec.clamp_mtime = options_.source_date_epoch;
        std::string description = instruction.keyword;
        std::optional<image::Image> from_image;
        for (const auto& flag : instruction.flags) {
            std::string value = expand_word(flag.value.value_or(""), lookup, file_.escape);
            if (flag.name == "chown") {
                spec.chown = value;
            } else if (flag.name == "chmod") {
                char* end = nullptr;
                unsigned long mode = std::strtoul(value.c_str(), &end, 8);
                if (value.empty() || *end || mode > 07777)
                    fail("--chmod=" + value + ": expected an octal mode such as 0755");
                spec.chmod = static_cast<std::uint32_t>(mode);
            } else if (flag.name == "from") {
                int stage = referenced_stage(value, current_stage_limit());
                if (stage >= 0) {
                    from_image = commit(built_.at(stage));
                } else {
                    from_image = store().find(value);
                    if (!from_image)
                        fail("--from=" + value +
                             ": no such stage or image (berth build does not pull)");
                }
            } else if (flag.name == "link") {
                // Our layers never depend on the layers below them for their content.
            } else {
                fail(instruction.keyword + " --" + flag.name + " is not supported yet");
            }
            description += " --" + flag.name + "=" + value;
        }
        std::vector<std::string> words =
            instruction.json_form ? instruction.json_arguments
                                  : split_quoted_words(instruction.arguments, file_.escape);
        if (words.size() < 2) fail(instruction.keyword + " needs a source and a destination");
        std::string dest = expand_word(words.back(), lookup, file_.escape);
        if (instruction.json_form) dest = words.back();
        words.pop_back();
        bool dest_slash = dest.ends_with("/") || dest == "." || dest.ends_with("/.");
        if (dest.empty() || dest.front() != '/') {
            std::string workdir = state.config.config.working_dir.empty()
                                      ? std::string("/")
                                      : state.config.config.working_dir;
            dest = workdir + "/" + dest;
        }
        spec.destination = "/" + confined_path(dest, "destination");
        spec.destination_is_directory = dest_slash;

        // Sources: heredocs, then files matched in the context (whose content
        // goes into the key) or in a stage's or image's root (whose digest
        // does, so it is mounted only when the step really runs).
        std::vector<std::string> patterns;
        std::size_t count = 0;
        for (const auto& word : words) {
            if (auto name = heredoc_name(word); name && !instruction.json_form) {
                auto heredoc =
                    std::find_if(instruction.heredocs.begin(), instruction.heredocs.end(),
                                 [&](const Heredoc& h) { return h.delimiter == *name; });
                if (heredoc == instruction.heredocs.end()) fail("no heredoc named " + *name);
                std::string content = heredoc->expand
                                          ? expand_variables(heredoc->body, lookup, file_.escape)
                                          : heredoc->body;
                spec.inline_files.push_back({*name, content});
                description += "\ninline " + *name + " " + oci::sha256_of(content).str();
                ++count;
                continue;
            }
            std::string source =
                instruction.json_form ? word : expand_word(word, lookup, file_.escape);
            if (add && (source.starts_with("http://") || source.starts_with("https://") ||
                        source.starts_with("git@")))
                fail("ADD from a URL is not supported yet: " + source);
            patterns.push_back(source);
            description += "\nsource " + source;
        }
        auto match_sources = [&](const SourceTree& tree) {
            for (const auto& source : patterns) {
                std::vector<std::string> paths = tree.match(source);
                for (const auto& path : paths) {
                    spec.sources.push_back(detail::CopySource{
                        &tree, path, add && !from_image && is_tar_archive(tree, path)});
                    ++count;
                }
                if (!from_image) description += " " + tree.content_digest(paths).str();
            }
            if (count > 1 && !dest_slash)
                fail("When using " + instruction.keyword +
                     " with more than one source file, the destination must be a directory and "
                     "end with a /");
            if (count > 1) spec.destination_is_directory = true;
        };
        if (from_image)
            description += "\nfrom " + from_image->manifest_digest.str();
        else
            match_sources(context());
        description += "\nto " + spec.destination + (dest_slash ? "/" : "");
        state.cache_key = chain(state.cache_key, description);
        if (try_cache(state)) return;

        std::unique_ptr<SourceTree> image_tree;
        if (from_image) {
            std::string mount = image::mount_image(store(), *from_image);
            image_tree = std::make_unique<SourceTree>(
                SourceTree::root_filesystem(mount, "image " + from_image->id.short_hex()));
        }
        struct Unmount {
            image::ImageStore& store;
            std::optional<image::Image>& image;
            ~Unmount() {
                try {
                    if (image) image::unmount_image(store, *image);
                } catch (const Error&) {
                }
            }
        } unmount{store(), from_image};
        if (image_tree) match_sources(*image_tree);
        image::Image base = commit(state);
        std::string work_dir = store().root() + "/build/" + random_hex();
        make_directories(work_dir, 0700);
        oci::Descriptor layer;
        try {
            layer = detail::copy_step(store(), base, work_dir, spec);
        } catch (...) {
            try {
                remove_tree(work_dir);
            } catch (const Error&) {
            }
            throw;
        }
        remove_tree(work_dir);
        add_layer(state, layer, instruction.text);
    }

    int current_stage_limit() const { return current_stage_; }

    image::StoreOptions store_options_;
    std::unique_ptr<image::ImageStore> store_;
    std::unique_ptr<BuildCache> cache_;
    engine::Engine& engine_;
    const BuildOptions& options_;
    Dockerfile file_;
    std::string created_;
    std::map<std::string, std::optional<std::string>> global_args_;
    std::map<std::string, std::string> predefined_;
    std::vector<Stage> stages_;
    std::map<int, StageState> built_;
    std::unique_ptr<SourceTree> context_;
    std::set<std::string> consumed_args_;
    int step_number_ = 0;
    int total_steps_ = 0;
    int current_stage_ = 0;
};

} // namespace

image::Image build_image(const image::StoreOptions& store_options, engine::Engine& engine,
                         const BuildOptions& options) {
    return Builder(store_options, engine, options).build();
}

} // namespace berth::build
