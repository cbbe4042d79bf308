// berth pull, push, login, logout (and `berth image pull|push`).
#include "commands.h"
#include "output.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/text.h"
#include "berth/oci/platform.h"
#include "berth/oci/reference.h"
#include "berth/registry/client.h"
#include "berth/registry/credentials.h"
#include "berth/registry/pull.h"
#include "berth/registry/push.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>
#include <termios.h>
#include <unistd.h>

namespace berth::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct RegistryFlags {
    bool tls_verify = true;
    std::string cert_dir;
    std::string auth_file;
};

void add_registry_flags(CLI::App* command, RegistryFlags& flags) {
    command->add_flag("--tls-verify", flags.tls_verify,
                      "Require HTTPS with a trusted certificate (--tls-verify=false allows plain "
                      "HTTP and any certificate)");
    command->add_option("--cert-dir", flags.cert_dir,
                        "Directory of CA certificates (*.crt) to trust");
    command->add_option(
        "--authfile", flags.auth_file,
        "Credentials file (default: $DOCKER_CONFIG/config.json, ~/.docker/config.json, "
        "$XDG_RUNTIME_DIR/containers/auth.json)");
}

// Registries allowed plain HTTP besides localhost: $BERTH_INSECURE_REGISTRIES
// (comma-separated) and /etc/berth/insecure-registries (one per line).
std::vector<std::string> insecure_registries() {
    std::vector<std::string> list;
    if (const char* env = std::getenv("BERTH_INSECURE_REGISTRIES"))
        for (auto& entry : split(env, ','))
            if (!entry.empty()) list.push_back(entry);
    const char* file = "/etc/berth/insecure-registries";
    if (path_exists(file))
        for (auto& line : split_lines(read_file(file))) {
            auto words = split_words(line);
            if (!words.empty() && words[0][0] != '#') list.push_back(words[0]);
        }
    return list;
}

registry::ClientOptions client_options(const RegistryFlags& flags) {
    registry::ClientOptions options;
    options.tls_verify = flags.tls_verify;
    options.cert_dir = flags.cert_dir;
    options.auth_file = flags.auth_file;
    options.insecure_registries = insecure_registries();
    return options;
}

std::string rate_text(double bytes_per_second) {
    return human_size(static_cast<std::int64_t>(bytes_per_second)) + "/s";
}

// Docker's per-layer lines: redrawn in place on a terminal, one line per
// change of state otherwise (no byte counts, which would flood a log).
class LayerProgress {
  public:
    LayerProgress(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}

    void update(const std::string& id, const std::string& status, bool final_state) {
        auto found = index_.find(id);
        bool is_new = found == index_.end();
        if (is_new) {
            index_[id] = lines_.size();
            lines_.push_back({id, status, Clock::now(), false});
        }
        Line& line = lines_[index_[id]];
        bool changed = is_new || line.status != status;
        line.status = status;
        if (!terminal_) {
            if (changed && (final_state || is_new))
                out_ << id << ": " << status << "\n" << std::flush;
            return;
        }
        auto now = Clock::now();
        if (!changed && now - last_draw_ < std::chrono::milliseconds(100)) return;
        redraw();
        last_draw_ = now;
    }

    void bytes(const std::string& id, std::uint64_t done, std::uint64_t total, const char* verb) {
        if (!terminal_) return;
        auto found = index_.find(id);
        if (found == index_.end()) return;
        Line& line = lines_[found->second];
        // The rate counts from the first byte, not from when the layer was queued.
        if (!line.moving) {
            line.moving = true;
            line.started = Clock::now();
        }
        double seconds = std::chrono::duration<double>(Clock::now() - line.started).count();
        std::string text = std::string(verb) + " " + bar(done, total) + " " +
                           human_size(static_cast<std::int64_t>(done)) + "/" +
                           human_size(static_cast<std::int64_t>(total));
        if (seconds > 0.2) text += "  " + rate_text(static_cast<double>(done) / seconds);
        line.status = text;
        // Byte counts change all the time: drawn ten times a second at most.
        auto now = Clock::now();
        if (now - last_draw_ < std::chrono::milliseconds(100)) return;
        redraw();
        last_draw_ = now;
    }

    void finish() {
        if (terminal_) redraw();
    }

  private:
    struct Line {
        std::string id;
        std::string status;
        Clock::time_point started;
        bool moving = false;
    };

    static std::string bar(std::uint64_t done, std::uint64_t total) {
        constexpr int width = 30;
        int filled =
            total ? static_cast<int>(width * static_cast<double>(done) / static_cast<double>(total))
                  : 0;
        filled = std::min(filled, width);
        return "[" + std::string(filled, '=') + (filled < width ? ">" : "") +
               std::string(width - filled - (filled < width ? 1 : 0), ' ') + "]";
    }

    void redraw() {
        if (drawn_ > 0) out_ << "\x1b[" << drawn_ << "A";
        for (const auto& line : lines_)
            out_ << "\r\x1b[2K" << line.id << ": " << line.status << "\n";
        drawn_ = lines_.size();
        out_ << std::flush;
    }

    std::ostream& out_;
    bool terminal_;
    std::vector<Line> lines_;
    std::map<std::string, std::size_t> index_;
    std::size_t drawn_ = 0;
    Clock::time_point last_draw_{};
};

struct PullFlags {
    std::string platform;
    bool quiet = false;
    RegistryFlags registry;
};

// A pull as `berth pull` shows it, on `out` (stderr when `berth run` pulls).
void pull_with_progress(image::ImageStore& store, const std::string& text, const PullFlags& flags,
                        std::ostream& out, int out_fd) {
    oci::Reference reference = oci::parse_reference(text);
    registry::PullOptions pull_options;
    pull_options.client = client_options(flags.registry);
    if (!flags.platform.empty()) pull_options.platform = oci::parse_platform(flags.platform);
    auto progress = std::make_shared<LayerProgress>(out, ::isatty(out_fd) != 0);
    if (!flags.quiet) {
        out << (reference.tag.empty() ? reference.digest->str() : reference.tag)
            << ": Pulling from " << reference.repository << "\n"
            << std::flush;
        pull_options.on_layer = [progress](const registry::LayerEvent& event) {
            std::string id = event.digest.short_hex();
            using Kind = registry::LayerEvent::Kind;
            switch (event.kind) {
            case Kind::already_exists:
                progress->update(id, "Already exists", true);
                break;
            case Kind::waiting:
                progress->update(id, "Pulling fs layer", true);
                break;
            case Kind::downloading:
                progress->bytes(id, event.bytes, event.total, "Downloading");
                break;
            case Kind::download_complete:
                progress->update(id, "Download complete", true);
                break;
            case Kind::pull_complete:
                progress->update(id, "Pull complete", true);
                break;
            }
        };
    }
    registry::PullResult result = registry::pull(store, reference, pull_options);
    std::string full = reference.name() + (reference.tag.empty() ? "@" + reference.digest->str()
                                                                 : ":" + reference.tag);
    if (flags.quiet) {
        out << full << "\n";
        return;
    }
    progress->finish();
    out << "Digest: " << result.digest.str() << "\n";
    out << "Status: "
        << (result.downloaded ? "Downloaded newer image for " : "Image is up to date for ")
        << reference.familiar_string() << "\n";
    out << full << "\n" << std::flush;
}

void define_pull(CLI::App* command, GlobalOptions& global) {
    struct Options {
        std::string reference;
        PullFlags flags;
    };
    auto options = std::make_shared<Options>();
    command->add_option("NAME[:TAG|@DIGEST]", options->reference, "Image to pull")->required();
    command->add_flag("-q,--quiet", options->flags.quiet, "Print only the image's name");
    command->add_option("--platform", options->flags.platform,
                        "os/arch[/variant] of a multi-platform image");
    add_registry_flags(command, options->flags.registry);
    command->callback([&global, options] {
        auto store = open_store(global);
        pull_with_progress(*store, options->reference, options->flags, std::cout, STDOUT_FILENO);
    });
}

void define_push(CLI::App* command, GlobalOptions& global) {
    struct Options {
        std::string reference;
        bool quiet = false;
        RegistryFlags registry;
    };
    auto options = std::make_shared<Options>();
    command->add_option("NAME[:TAG]", options->reference, "Image to push")->required();
    command->add_flag("-q,--quiet", options->quiet, "Print nothing but errors");
    add_registry_flags(command, options->registry);
    command->callback([&global, options] {
        oci::Reference reference = oci::parse_reference(options->reference);
        registry::PushOptions push_options;
        push_options.client = client_options(options->registry);
        // A knob for tests and slow links: the size of PATCH chunks.
        if (const char* chunk = std::getenv("BERTH_PUSH_CHUNK_SIZE"); chunk && *chunk)
            push_options.chunk_size = std::strtoull(chunk, nullptr, 10);
        auto progress = std::make_shared<LayerProgress>(std::cout, ::isatty(STDOUT_FILENO) != 0);
        if (!options->quiet) {
            std::cout << "The push refers to repository [" << reference.name() << "]\n"
                      << std::flush;
            push_options.on_blob = [progress](const registry::BlobEvent& event) {
                std::string id = event.digest.short_hex();
                using Kind = registry::BlobEvent::Kind;
                switch (event.kind) {
                case Kind::already_exists:
                    progress->update(id, "Layer already exists", true);
                    break;
                case Kind::mounted:
                    progress->update(id, "Mounted from " + event.from, true);
                    break;
                case Kind::pushing:
                    if (event.bytes == 0) progress->update(id, "Preparing", true);
                    progress->bytes(id, event.bytes, event.total, "Pushing");
                    break;
                case Kind::pushed:
                    progress->update(id, "Pushed", true);
                    break;
                }
            };
        }
        auto store = open_store(global);
        registry::PushResult result = registry::push(*store, reference, push_options);
        if (options->quiet) return;
        progress->finish();
        std::cout << result.tag << ": digest: " << result.digest.str() << " size: " << result.size
                  << "\n";
    });
}

std::string read_secret_from_terminal(const std::string& prompt) {
    std::cerr << prompt << std::flush;
    termios saved{};
    bool terminal = ::tcgetattr(STDIN_FILENO, &saved) == 0;
    if (terminal) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string secret;
    std::getline(std::cin, secret);
    if (terminal) {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        std::cerr << "\n";
    }
    return secret;
}

// "docker.io" for Docker Hub's spellings, the host[:port] otherwise.
std::string registry_of(std::string server) {
    if (server.empty()) return "docker.io";
    if (auto scheme = server.find("://"); scheme != std::string::npos) server.erase(0, scheme + 3);
    server = server.substr(0, server.find('/'));
    if (server == "index.docker.io" || server == "registry-1.docker.io") return "docker.io";
    if (server.empty()) fail("no registry named");
    return server;
}

void define_login(CLI::App* command) {
    struct Options {
        std::string server, username, password;
        bool password_stdin = false;
        RegistryFlags registry;
    };
    auto options = std::make_shared<Options>();
    command->add_option("SERVER", options->server, "Registry (default: Docker Hub)");
    command->add_option("-u,--username", options->username, "Username");
    command->add_option("-p,--password", options->password, "Password (prefer --password-stdin)");
    command->add_flag("--password-stdin", options->password_stdin, "Read the password from stdin");
    add_registry_flags(command, options->registry);
    command->callback([options] {
        std::string registry = registry_of(options->server);
        registry::Credentials credentials{options->username, options->password};
        if (!options->password.empty())
            std::cerr
                << "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n";
        if (options->password_stdin) {
            if (!options->password.empty()) fail("--password and --password-stdin are exclusive");
            if (credentials.username.empty()) fail("--password-stdin needs --username");
            credentials.password = read_all(STDIN_FILENO);
            while (!credentials.password.empty() &&
                   (credentials.password.back() == '\n' || credentials.password.back() == '\r'))
                credentials.password.pop_back();
        }
        if (credentials.username.empty()) {
            if (!::isatty(STDIN_FILENO)) fail("no username: give --username");
            std::cerr << "Username: " << std::flush;
            std::getline(std::cin, credentials.username);
        }
        if (credentials.password.empty() && !options->password_stdin) {
            if (!::isatty(STDIN_FILENO)) fail("no password: give --password-stdin or --password");
            credentials.password = read_secret_from_terminal("Password: ");
        }
        if (credentials.username.empty() || credentials.password.empty())
            fail("logging in to " + registry + ": username and password must not be empty");
        registry::ClientOptions client = client_options(options->registry);
        client.credentials = credentials;
        registry::Client(registry, client).check_login();
        registry::store_credentials(registry, credentials, options->registry.auth_file);
        std::cout << "Login Succeeded\n";
    });
}

void define_logout(CLI::App* command) {
    auto server = std::make_shared<std::string>();
    auto auth_file = std::make_shared<std::string>();
    command->add_option("SERVER", *server, "Registry (default: Docker Hub)");
    command->add_option("--authfile", *auth_file, "Credentials file");
    command->callback([server, auth_file] {
        std::string registry = registry_of(*server);
        if (registry::store_credentials(registry, std::nullopt, *auth_file))
            std::cout << "Removing login credentials for " << registry << "\n";
        else
            std::cout << "Not logged in to " << registry << "\n";
    });
}

} // namespace

bool pull_if_missing(const GlobalOptions& global, const std::string& image) {
    auto store = open_store(global);
    if (store->find(image)) return false;
    // Only names can be pulled; an ID or its prefix that matches nothing
    // stays "no such image".
    oci::Reference reference;
    try {
        reference = oci::parse_reference(image);
    } catch (const Error&) {
        return false;
    }
    std::cerr << "Unable to find image '" << reference.familiar_string() << "' locally\n";
    pull_with_progress(*store, image, PullFlags{}, std::cerr, STDERR_FILENO);
    return true;
}

void pull_for_build(const GlobalOptions& global, const std::string& image, bool quiet) {
    auto store = open_store(global);
    PullFlags flags;
    flags.quiet = quiet;
    if (quiet) {
        std::ostringstream ignored;
        pull_with_progress(*store, image, flags, ignored, -1);
        return;
    }
    pull_with_progress(*store, image, flags, std::cout, STDOUT_FILENO);
}

void prepare_image_for_run(const GlobalOptions& global, const std::string& image,
                           const std::string& pull, const std::string& platform) {
    if (pull != "always" && pull != "missing" && pull != "never")
        fail("invalid pull option: '" + pull +
             "': must be one of \"always\", \"missing\" or \"never\"");
    std::optional<oci::Platform> wanted;
    if (!platform.empty()) wanted = oci::parse_platform(platform);
    auto store = open_store(global);
    std::optional<image::Image> found = store->find(image);
    auto matches = [&](const image::Image& candidate) {
        const oci::ImageConfig& config = candidate.config;
        return !wanted || (config.os == wanted->os && config.architecture == wanted->architecture &&
                           (wanted->variant.empty() || config.variant == wanted->variant));
    };
    PullFlags flags;
    flags.platform = platform;
    if (pull == "always") {
        pull_with_progress(*store, image, flags, std::cerr, STDERR_FILENO);
        return;
    }
    if (found && matches(*found)) return;
    if (pull == "never") {
        if (!found) fail("No such image: " + image);
        fail("image with reference " + image +
             " was found but does not match the specified platform: wanted " +
             oci::platform_string(*wanted) + ", actual: " +
             oci::platform_string(oci::Platform{.architecture = found->config.architecture,
                                                .os = found->config.os,
                                                .variant = found->config.variant}));
    }
    oci::Reference reference = oci::parse_reference(image);
    if (!found)
        std::cerr << "Unable to find image '" << reference.familiar_string() << "' locally\n";
    pull_with_progress(*store, image, flags, std::cerr, STDERR_FILENO);
}

void add_registry_commands(CLI::App& app, CLI::App& image_group, GlobalOptions& global) {
    define_pull(app.add_subcommand("pull", "Download an image from a registry"), global);
    define_pull(image_group.add_subcommand("pull", "Download an image from a registry"), global);
    define_push(app.add_subcommand("push", "Upload an image to a registry"), global);
    define_push(image_group.add_subcommand("push", "Upload an image to a registry"), global);
    define_login(app.add_subcommand("login", "Log in to a registry"));
    define_logout(app.add_subcommand("logout", "Log out from a registry"));
}

} // namespace berth::cli
