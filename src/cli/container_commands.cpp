// berth create, run, start, stop, kill, rm, wait, exec (and under `berth container`).
#include "container_commands.h"

#include "berth/base/error.h"
#include "berth/runtime/runtime.h"

#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <unistd.h>

namespace berth::cli {

namespace {

// Docker's exit code for an error of the engine itself (not the container's).
constexpr int engine_error = 125;

[[noreturn]] void report_and_exit(const std::exception& error, int code) {
    std::fflush(stdout);
    std::cerr << "berth: " << error.what() << "\n";
    exit_with(code);
}

// Runs `body` for each reference, reporting failures as Docker does (all
// are tried; the exit code is 1 if any failed).
template <class Body>
void for_each_container(const std::vector<std::string>& references, Body body) {
    int failures = 0;
    for (const auto& reference : references) {
        try {
            body(reference);
        } catch (const Error& error) {
            std::fflush(stdout);
            std::cerr << "berth: " << error.what() << "\n";
            ++failures;
        }
    }
    if (failures) exit_with(1);
}

void define_create_or_run(CLI::App* command, GlobalOptions& global, bool is_run) {
    auto flags = std::make_shared<RunFlags>();
    add_run_flags(*command, *flags, is_run);
    command->callback([&global, flags, command, is_run] {
        flags->image_and_command = command->remaining();
        engine::ContainerRecord record;
        std::optional<engine::Engine> engine;
        engine::RunRequest request;
        try {
            request = finish_request(*flags);
            if (is_run && !flags->detach && request.tty && request.interactive &&
                !::isatty(STDIN_FILENO))
                fail("the input device is not a TTY");
            if (flags->pull != "missing" || !flags->platform.empty())
                prepare_image_for_run(global, request.image, flags->pull, flags->platform);
            engine.emplace(open_engine(global));
            if (is_run) engine->get_ready_to_start();
            try {
                record = engine->create(request);
            } catch (const Error&) {
                // An image the store lacks is pulled first, as docker does.
                if (flags->pull == "never" || !pull_if_missing(global, request.image)) throw;
                record = engine->create(request);
            }
        } catch (const std::exception& error) {
            report_and_exit(error, engine_error);
        }
        if (!is_run) {
            std::cout << record.id << "\n";
            return;
        }
        try {
            if (flags->detach) {
                engine->start(record.id, false).wait_started();
                std::cout << record.id << "\n";
                return;
            }
            int code =
                engine->start(record.id, true)
                    .stream_until_exit({.forward_stdin = request.interactive, .tty = request.tty});
            // The container is gone (with --rm, wholly): closing the database
            // is all that is left.
            engine.reset();
            exit_at_once(code);
        } catch (const engine::StartError& error) {
            report_and_exit(error, error.exit_code());
        } catch (const Error& error) {
            report_and_exit(error, engine_error);
        }
    });
}

void define_start(CLI::App* command, GlobalOptions& global) {
    auto references = std::make_shared<std::vector<std::string>>();
    auto attach = std::make_shared<bool>(false);
    auto interactive = std::make_shared<bool>(false);
    command->add_flag("-a,--attach", *attach,
                      "Stream the container's output and exit with its code");
    command->add_flag("-i,--interactive", *interactive, "Attach this terminal's input too");
    command->add_option("CONTAINER", *references, "Containers to start")->required();
    command->callback([&global, references, attach, interactive] {
        auto engine = open_engine(global);
        if (*attach || *interactive) {
            if (references->size() != 1)
                fail("you cannot start and attach multiple containers at once");
            try {
                engine::RunRequest request = engine.request(references->front());
                int code =
                    engine.start(references->front(), true)
                        .stream_until_exit({.forward_stdin = *interactive && request.interactive,
                                            .tty = request.tty});
                if (code != 0) exit_with(code);
            } catch (const engine::StartError& error) {
                report_and_exit(error, error.exit_code());
            }
            return;
        }
        for_each_container(*references, [&](const std::string& reference) {
            engine.start(reference, false).wait_started();
            std::cout << reference << "\n";
        });
    });
}

void define_stop(CLI::App* command, GlobalOptions& global) {
    auto references = std::make_shared<std::vector<std::string>>();
    auto timeout = std::make_shared<int>(-1);
    command->add_option("-t,--time,--timeout", *timeout,
                        "Seconds to wait before killing (default 10)");
    command->add_option("CONTAINER", *references, "Containers to stop")->required();
    command->callback([&global, references, timeout] {
        auto engine = open_engine(global);
        for_each_container(*references, [&](const std::string& reference) {
            engine.stop(reference, *timeout);
            std::cout << reference << "\n";
        });
    });
}

void define_restart(CLI::App* command, GlobalOptions& global) {
    auto references = std::make_shared<std::vector<std::string>>();
    auto timeout = std::make_shared<int>(-1);
    command->add_option("-t,--time,--timeout", *timeout,
                        "Seconds to wait before killing (default 10)");
    command->add_option("CONTAINER", *references, "Containers to restart")->required();
    command->callback([&global, references, timeout] {
        auto engine = open_engine(global);
        for_each_container(*references, [&](const std::string& reference) {
            engine.stop(reference, *timeout);
            engine.start(reference, false).wait_started();
            std::cout << reference << "\n";
        });
    });
}

void define_kill(CLI::App* command, GlobalOptions& global) {
    auto references = std::make_shared<std::vector<std::string>>();
    auto signal = std::make_shared<std::string>("KILL");
    command->add_option("-s,--signal", *signal, "Signal to send (default KILL)");
    command->add_option("CONTAINER", *references, "Containers to signal")->required();
    command->callback([&global, references, signal] {
        int number = runtime::parse_signal(*signal);
        auto engine = open_engine(global);
        for_each_container(*references, [&](const std::string& reference) {
            engine.kill(reference, number);
            std::cout << reference << "\n";
        });
    });
}

void define_remove(CLI::App* command, GlobalOptions& global) {
    auto references = std::make_shared<std::vector<std::string>>();
    auto force = std::make_shared<bool>(false);
    command->add_flag("-f,--force", *force, "Kill a running container first");
    auto volumes = std::make_shared<bool>(false);
    command->add_flag("-v,--volumes", *volumes, "Remove the container's anonymous volumes too");
    command->add_option("CONTAINER", *references, "Containers to remove")->required();
    command->callback([&global, references, force, volumes] {
        auto engine = open_engine(global);
        if (*force && references->size() > 1) {
            // Every one killed first: their monitors then take them apart at
            // the same time, not one after the other as each is removed.
            for (const auto& reference : *references) {
                try {
                    engine.kill(reference, SIGKILL);
                } catch (const Error&) {
                    // Not running, or no such container: remove says so.
                }
            }
        }
        for_each_container(*references, [&](const std::string& reference) {
            if (*force) {
                // Docker's rm -f says a container does not exist, but that is
                // no failure: what -f asks for (it is gone) is true.
                try {
                    engine.get(reference);
                } catch (const Error& error) {
                    std::cerr << "berth: " << error.what() << "\n";
                    return;
                }
            }
            engine.remove(reference, *force, *volumes);
            std::cout << reference << "\n";
        });
    });
}

void define_attach(CLI::App* command, GlobalOptions& global) {
    auto reference = std::make_shared<std::string>();
    auto no_stdin = std::make_shared<bool>(false);
    command->add_flag("--no-stdin", *no_stdin, "Do not attach standard input");
    command->add_option("CONTAINER", *reference, "Container to attach to")->required();
    command->callback([&global, reference, no_stdin] {
        auto engine = open_engine(global);
        try {
            engine::RunRequest request = engine.request(*reference);
            int code = engine.attach(*reference)
                           .stream_until_exit({.forward_stdin = request.interactive && !*no_stdin,
                                               .tty = request.tty});
            if (code != 0) exit_with(code);
        } catch (const engine::StartError& error) {
            report_and_exit(error, error.exit_code());
        }
    });
}

void define_wait(CLI::App* command, GlobalOptions& global) {
    auto references = std::make_shared<std::vector<std::string>>();
    command->add_option("CONTAINER", *references, "Containers to wait for")->required();
    command->callback([&global, references] {
        auto engine = open_engine(global);
        for_each_container(*references, [&](const std::string& reference) {
            std::cout << engine.wait(reference) << std::endl;
        });
    });
}

void define_exec(CLI::App* command, GlobalOptions& global) {
    struct Options {
        engine::ExecRequest request;
    };
    auto options = std::make_shared<Options>();
    command->prefix_command();
    command->fallthrough(false);
    command->add_flag("-d,--detach", options->request.detach,
                      "Run the command in the background (its output is discarded)");
    command->add_flag("-i,--interactive", options->request.interactive, "Keep standard input open");
    command->add_flag("-t,--tty", options->request.tty, "Give the process a terminal");
    command->add_option("-e,--env", options->request.env, "Set an environment variable")
        ->allow_extra_args(false);
    command->add_option("-w,--workdir", options->request.workdir,
                        "Working directory inside the container");
    command->add_option("-u,--user", options->request.user,
                        "User name or uid, and optionally group");
    command->callback([&global, options, command] {
        auto rest = command->remaining();
        if (rest.size() < 2) {
            std::cerr
                << "berth: \"exec\" requires at least 2 arguments: CONTAINER COMMAND [ARG...]\n";
            exit_with(1);
        }
        engine::ExecRequest request = options->request;
        request.args.assign(rest.begin() + 1, rest.end());
        int code;
        try {
            if (request.tty && request.interactive && !request.detach && !::isatty(STDIN_FILENO))
                fail("the input device is not a TTY");
            code = open_engine(global).exec(rest.front(), request);
        } catch (const engine::StartError& error) {
            report_and_exit(error, error.exit_code());
        } catch (const Error& error) {
            // Not running, no such container...: berth's own error, as Docker's 125.
            report_and_exit(error, engine_error);
        }
        if (code != 0) exit_with(code);
    });
}

// `berth NAME` and `berth container NAME`, each with its options only when
// it is the one invoked.
template <class Define>
void both(CLI::App& app, const char* name, const char* description, Define define,
          GlobalOptions& global) {
    CLI::App* top_level = app.add_subcommand(name, description);
    if (might_invoke(global, {name})) define(top_level, global);
    CLI::App* in_group = container_group(app).add_subcommand(name, description);
    if (might_invoke(global, {"container", name})) define(in_group, global);
}

} // namespace

engine::Engine open_engine(const GlobalOptions& global) {
    engine::EngineOptions options;
    options.root = global.root.empty() ? image::default_root() : global.root;
    return engine::Engine(options);
}

CLI::App& container_group(CLI::App& app) {
    for (CLI::App* existing :
         app.get_subcommands([](CLI::App* sub) { return sub->get_name() == "container"; }))
        return *existing;
    CLI::App* group = app.add_subcommand("container", "Manage containers");
    group->require_subcommand(1);
    return *group;
}

void exit_with(int code) {
    throw CLI::RuntimeError(code);
}

void exit_at_once(int code) {
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    ::_exit(code);
}

void add_container_commands(CLI::App& app, GlobalOptions& global) {
    both(
        app, "create", "Create a container (to start later)",
        [](CLI::App* c, GlobalOptions& g) { define_create_or_run(c, g, false); }, global);
    both(
        app, "run", "Run a command in a new container",
        [](CLI::App* c, GlobalOptions& g) { define_create_or_run(c, g, true); }, global);
    both(app, "start", "Start stopped containers", define_start, global);
    both(app, "stop", "Stop running containers", define_stop, global);
    both(app, "restart", "Restart containers", define_restart, global);
    both(app, "kill", "Send a signal to running containers", define_kill, global);
    both(app, "rm", "Remove containers", define_remove, global);
    both(app, "wait", "Wait for containers to stop and print their exit codes", define_wait,
         global);
    both(app, "exec", "Run a command in a running container", define_exec, global);
    both(app, "attach", "Attach this terminal to a running container", define_attach, global);
    add_healthcheck_commands(app, global);
}

} // namespace berth::cli
