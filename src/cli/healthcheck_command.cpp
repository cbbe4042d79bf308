// berth healthcheck run CONTAINER (as podman's): one check now. Exit 0 if
// the container is healthy after it, 1 if not (printing the status), 125
// if the check could not be run.
#include "container_commands.h"

#include "berth/base/error.h"

#include <iostream>

namespace berth::cli {

void add_healthcheck_commands(CLI::App& app, GlobalOptions& global) {
    CLI::App* group = app.add_subcommand("healthcheck", "Manage health checks of containers");
    group->require_subcommand(1);
    CLI::App* run =
        group->add_subcommand("run", "Run a container's health check now and record the result");
    auto reference = std::make_shared<std::string>();
    run->add_option("CONTAINER", *reference, "Container")->required();
    run->callback([&global, reference] {
        engine::HealthState state;
        try {
            auto engine = open_engine(global);
            state = engine.run_healthcheck(*reference);
        } catch (const std::exception& error) {
            std::cerr << "berth: " << error.what() << "\n";
            exit_with(125);
        }
        if (state.status == "healthy") return;
        std::cout << state.status << "\n";
        exit_with(1);
    });
}

} // namespace berth::cli
