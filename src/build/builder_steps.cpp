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

} // namespace berth::build::detail
