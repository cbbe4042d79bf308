// The builder's steps that make layers or scope variables: ARG, RUN, COPY, ADD.
#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/image/rootfs.h"
#include "builder_internal.h"

#include <unistd.h>

namespace berth::build::detail {

void Builder::declare_stage_args(StageState& state, const Instruction& instruction) {
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

std::vector<std::string> Builder::run_env(const StageState& state) {
    std::vector<std::string> env = state.config.config.env;
    for (const auto& [name, value] : state.args)
        if (value && !detail::env_value(env, name)) env.push_back(name + "=" + *value);
    return env;
}

void Builder::run(StageState& state, const Instruction& instruction) {
    std::string network = "bridge";
    std::vector<std::string> mount_flags;
    for (const auto& flag : instruction.flags) {
        if (flag.name == "mount") {
            mount_flags.push_back(flag.value.value_or(""));
            continue;
        }
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
                if (script.starts_with("#!")) {
                    // A script with its own interpreter runs as a file, as with
                    // Docker: written to /tmp, run, and removed.
                    const std::string end =
                        "BERTH_HEREDOC_" + oci::sha256_of(script).hex().substr(0, 12);
                    script = "f=/tmp/.berth-run-$$\ncat > \"$f\" <<'" + end + "'\n" + script + end +
                             "\nchmod 0755 \"$f\"\n\"$f\"\nstatus=$?\nrm -f \"$f\"\nexit $status\n";
                }
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
    detail::PreparedMounts mounts;
    collect_mounts(state, mount_flags, mounts);
    std::string description = "RUN\n" + nlohmann::json(args).dump() + "\n" +
                              nlohmann::json(spec.env).dump() + "\nnetwork=" + network + mounts.key;
    state.cache_key = chain(state.cache_key, description);
    if (try_cache(state)) return;
    image::Image base = commit(state);
    mounts.materialize(store_access(), store().root(), new_work_dir());
    spec.mounts = mounts.requests;
    spec.mount_targets = mounts.targets;
    oci::Descriptor layer = detail::run_step(*engine_, store_access(), base, spec);
    add_layer(state, layer, instruction.text);
}

const SourceTree& Builder::context() {
    if (!context_) {
        if (options_.context_dir.empty())
            fail("no build context: the Dockerfile came on stdin without one");
        context_ = std::make_unique<SourceTree>(SourceTree::context(options_.context_dir));
    }
    return *context_;
}

void Builder::copy(StageState& state, const Instruction& instruction) {
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
    std::vector<std::string> words = instruction.json_form
                                         ? instruction.json_arguments
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
            auto heredoc = std::find_if(instruction.heredocs.begin(), instruction.heredocs.end(),
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
        std::string source = instruction.json_form ? word : expand_word(word, lookup, file_.escape);
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
    // COPY needs only the stage's layers mounted, not an image in the store:
    // no commit (two blob writes and an index row) for the config steps before it.
    image::Image base;
    if (state.committed) {
        base = *state.committed;
    } else {
        base.config = state.config;
        base.manifest.layers = state.layers;
    }
    std::string work_dir = new_work_dir();
    oci::Descriptor layer;
    for (bool on_tmpfs : {true, false}) {
        make_directories(work_dir, 0700);
        on_tmpfs = on_tmpfs && detail::mount_scratch_tmpfs(work_dir);
        try {
            layer = detail::copy_step(store(), base, work_dir, spec);
            remove_work_dir(work_dir);
            break;
        } catch (const Error& error) {
            try {
                remove_work_dir(work_dir);
            } catch (const Error&) {
            }
            // Too big for the tmpfs: again on disk.
            if (on_tmpfs && error.errno_value() == ENOSPC) continue;
            throw;
        } catch (...) {
            try {
                remove_work_dir(work_dir);
            } catch (const Error&) {
            }
            throw;
        }
    }
    add_layer(state, layer, instruction.text);
}

} // namespace berth::build::detail
