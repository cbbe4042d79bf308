#include "berth/cli/main.h"
#include "berth/engine/monitor_exit.h"

#include <cstring>

int main(int argc, char** argv) {
    // A container's monitor, after the container's exit: no command line to parse.
    if (argc > 1 && std::strcmp(argv[1], berth::engine::monitor_exit_command) == 0)
        return berth::engine::run_monitor_exit_command(argc, argv);
    return berth::cli::main(argc, argv);
}
