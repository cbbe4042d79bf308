#include "monitor.h"

#include "berth/base/error.h"
#include "monitor_handoff.h"

namespace berth::engine {

std::vector<std::string> encode_monitor_plan(const MonitorPlan& plan) {
    std::vector<std::string> words{
        "--id=" + plan.id,
        "--container-dir=" + plan.container_dir,
        "--runtime-root=" + plan.runtime_root,
        "--database=" + plan.database_path,
        "--root=" + plan.root,
        "--attach-socket=" + plan.attach_socket,
        "--runtime=" + plan.runtime,
        "--log-max-size=" + std::to_string(plan.log_rotation.max_size),
        "--log-max-files=" + std::to_string(plan.log_rotation.max_files),
    };
    if (plan.auto_remove) words.push_back("--auto-remove");
    if (plan.attach) words.push_back("--attach");
    if (plan.interactive) words.push_back("--interactive");
    if (plan.tty) words.push_back("--tty");
    if (!plan.keep_log) words.push_back("--no-log");
    return words;
}

MonitorPlan decode_monitor_plan(const std::vector<std::string>& words) {
    MonitorPlan plan;
    for (const auto& word : words) {
        std::string value;
        if (word == "--auto-remove")
            plan.auto_remove = true;
        else if (word == "--attach")
            plan.attach = true;
        else if (word == "--interactive")
            plan.interactive = true;
        else if (word == "--tty")
            plan.tty = true;
        else if (word == "--no-log")
            plan.keep_log = false;
        else if (word_value(word, "id", value))
            plan.id = value;
        else if (word_value(word, "container-dir", value))
            plan.container_dir = value;
        else if (word_value(word, "runtime-root", value))
            plan.runtime_root = value;
        else if (word_value(word, "database", value))
            plan.database_path = value;
        else if (word_value(word, "root", value))
            plan.root = value;
        else if (word_value(word, "attach-socket", value))
            plan.attach_socket = value;
        else if (word_value(word, "runtime", value))
            plan.runtime = value;
        else if (word_value(word, "log-max-size", value))
            plan.log_rotation.max_size = std::stoull(value);
        else if (word_value(word, "log-max-files", value))
            plan.log_rotation.max_files = static_cast<unsigned>(std::stoul(value));
        else
            fail("the monitor's plan: unknown word " + word);
    }
    if (plan.id.empty() || plan.container_dir.empty() || plan.runtime_root.empty() ||
        plan.database_path.empty())
        fail("the monitor's plan does not name the container");
    return plan;
}

} // namespace berth::engine
