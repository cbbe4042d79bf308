#include "berth/base/user_namespace.h"

#include <cstdio>
#include <unistd.h>

namespace berth {

bool in_initial_user_namespace() {
    // Read each time: a rootless berth command joins its namespace after start.
    return [] {
        std::FILE* map = std::fopen("/proc/self/uid_map", "re");
        if (!map) return true; // no /proc: nothing to tell, assume the host's
        unsigned long inside = 0, outside = 0, count = 0;
        int fields = std::fscanf(map, "%lu %lu %lu", &inside, &outside, &count);
        int more = std::fgetc(map);
        while (more == ' ' || more == '\n')
            more = std::fgetc(map);
        std::fclose(map);
        // The host's own map is one line: 0 0 4294967295.
        return fields == 3 && inside == 0 && outside == 0 && count == 4294967295UL && more == EOF;
    }();
}

bool group_is_mapped(unsigned long gid) {
    std::FILE* map = std::fopen("/proc/self/gid_map", "re");
    if (!map) return true;
    unsigned long inside = 0, outside = 0, count = 0;
    bool mapped = false;
    while (!mapped && std::fscanf(map, "%lu %lu %lu", &inside, &outside, &count) == 3)
        mapped = gid >= inside && gid - inside < count;
    std::fclose(map);
    return mapped;
}

bool rootless() {
    return ::geteuid() != 0 || !in_initial_user_namespace();
}

} // namespace berth
