#include "berth/runtime/seccomp.h"

#include "kernel_support.h"
#include "profile.h"

#include <nlohmann/json.hpp>

namespace berth::runtime::seccomp {

nlohmann::json features() {
    KnownNames names = known_names();
    nlohmann::json known_flags = nlohmann::json::array();
    nlohmann::json supported_flags = nlohmann::json::array();
    for (const auto& [name, flag] : names.flags) {
        known_flags.push_back(name);
        // WAIT_KILLABLE_RECV exists only beside a listener.
        unsigned int companions =
            flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
        if (kernel_refusal(flag | companions) == 0) supported_flags.push_back(name);
    }
    return {{"enabled", kernel_refusal(0) == 0}, {"actions", names.actions},
            {"operators", names.operators},      {"archs", names.architectures},
            {"knownFlags", known_flags},         {"supportedFlags", supported_flags}};
}

} // namespace berth::runtime::seccomp
