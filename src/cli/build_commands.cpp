// `berth build`: the context (a directory, a tar on stdin, or a Dockerfile
// on stdin with no context), the flags, and Docker's output around the
// builder's steps.
#include "commands.h"
#include "container_commands.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/base/user_namespace.h"
#include "berth/build/build_context.h"
#include "berth/build/builder.h"
#include "berth/build/run_mount.h"
#include "berth/image/byte_stream.h"
#include "berth/image/decompress.h"
#include "berth/image/layer_apply.h"
#include "berth/image/tar_reader.h"
#include "berth/registry/download.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <memory>
#include <random>
#include <unistd.h>

namespace berth::cli {

namespace {

struct BuildFlags {
    std::vector<std::string> tags;
    std::string file;
    std::vector<std::string> build_args;
    std::string target;
    bool no_cache = false;
    bool pull = false;
    std::vector<std::string> labels;
    std::vector<std::string> secrets;
    bool quiet = false;
    std::string iidfile;
    std::string context;
};

std::pair<std::string, std::string> key_value(const std::string& text, const char* flag,
                                              bool value_from_env) {
    auto equals = text.find('=');
    if (equals == 0) fail(std::string(flag) + " " + text + ": expected KEY=value");
    if (equals == std::string::npos) {
        if (!value_from_env) return {text, ""};
        const char* value = std::getenv(text.c_str());
        return {text, value ? value : ""};
    }
    return {text.substr(0, equals), text.substr(equals + 1)};
}

// A directory that removes itself: the context unpacked from stdin.
class ScratchDirectory {
  public:
    explicit ScratchDirectory(const std::string& root) {
        std::random_device random;
        path_ =
            root + "/build/context-" + std::to_string(::getpid()) + "-" + std::to_string(random());
        make_directories(path_, 0700);
    }
    ~ScratchDirectory() {
        try {
            remove_tree(path_);
        } catch (const Error&) {
        }
    }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

bool looks_like_archive(std::string_view head) {
    try {
        if (image::detect_compression(head) != oci::Compression::none) return true;
    } catch (const Error&) {
        return true; // xz or bzip2: an archive we cannot read, said clearly below
    }
    return head.size() >= 262 && std::memcmp(head.data() + 257, "ustar", 5) == 0;
}

void unpack_context(std::string_view head, int rest_fd, const std::string& directory) {
    with_context("reading the build context from stdin", [&] {
        image::MemorySource first(head);
        image::FdSource rest(rest_fd, "stdin");
        struct Joined : image::ByteSource {
            image::ByteSource& a;
            image::ByteSource& b;
            bool first_done = false;
            Joined(image::ByteSource& x, image::ByteSource& y) : a(x), b(y) {}
            std::size_t read(void* buffer, std::size_t size) override {
                if (!first_done) {
                    std::size_t n = a.read(buffer, size);
                    if (n) return n;
                    first_done = true;
                }
                return b.read(buffer, size);
            }
        } joined(first, rest);
        image::PeekableSource peekable(joined);
        auto compression = image::detect_compression(peekable.peek(image::compression_magic_size));
        std::unique_ptr<image::ByteSource> plain;
        image::ByteSource* source = &peekable;
        if (compression != oci::Compression::none) {
            plain = image::decompressing(peekable, compression);
            source = plain.get();
        }
        image::TarReader reader(*source);
        UniqueFd dir = open_fd(directory, O_RDONLY | O_DIRECTORY);
        image::ApplyOptions options;
        options.preserve_ownership = false;
        image::apply_layer(reader, dir.get(), options);
    });
}

void run_build(BuildFlags& flags, GlobalOptions& global) {
    image::StoreOptions store_options;
    store_options.root = global.root.empty() ? image::default_root() : global.root;
    store_options.apply.preserve_ownership = !rootless();
    build::BuildOptions options;
    for (const auto& arg : flags.build_args) {
        // "--build-arg NAME" takes NAME's value from the environment, and
        // sets nothing when it is not there (as Docker).
        if (arg.find('=') == std::string::npos && !std::getenv(arg.c_str())) continue;
        auto [key, value] = key_value(arg, "--build-arg", true);
        options.build_args[key] = value;
    }
    for (const auto& label : flags.labels) {
        auto [key, value] = key_value(label, "--label", false);
        options.labels[key] = value;
    }
    for (const auto& text : flags.secrets) {
        build::SecretSource secret = build::parse_secret_flag(text);
        secret.path = absolute_path_of(secret.path);
        if (!path_exists(secret.path))
            fail("--secret " + text + ": " + secret.path + " does not exist");
        options.secrets[secret.id] = secret.path;
    }
    options.tags = flags.tags;
    options.target = flags.target;
    options.no_cache = flags.no_cache;
    options.quiet = flags.quiet;
    const char* epoch = std::getenv("SOURCE_DATE_EPOCH");
    if (auto given = options.build_args.find("SOURCE_DATE_EPOCH");
        given != options.build_args.end())
        epoch = given->second.c_str();
    if (epoch && *epoch) {
        char* end = nullptr;
        long long value = std::strtoll(epoch, &end, 10);
        if (*end || value < 0)
            fail("SOURCE_DATE_EPOCH=" + std::string(epoch) + ": not a number of seconds");
        options.source_date_epoch = value;
    }
    options.progress = [](const std::string& line) { std::cout << line << std::endl; };
    options.pull = flags.pull;
    options.pull_image = [&global, quiet = flags.quiet](const std::string& image) {
        pull_for_build(global, image, quiet);
    };
    options.fetch_url = [](const std::string& url, int fd) {
        return registry::download_url(url, fd).last_modified;
    };

    std::unique_ptr<ScratchDirectory> unpacked;
    std::string stdin_dockerfile;
    bool stdin_used = false;
    if (flags.context == "-") {
        std::string head(512, '\0');
        std::size_t got = 0;
        while (got < head.size()) {
            ssize_t n = ::read(0, head.data() + got, head.size() - got);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_errno("reading stdin");
            if (n == 0) break;
            got += static_cast<std::size_t>(n);
        }
        head.resize(got);
        stdin_used = true;
        if (looks_like_archive(head)) {
            unpacked = std::make_unique<ScratchDirectory>(store_options.root);
            unpack_context(head, 0, unpacked->path());
            options.context_dir = unpacked->path();
        } else {
            stdin_dockerfile = head + read_all(0); // no context: only a Dockerfile
            if (!flags.file.empty() && flags.file != "-")
                fail("-f " + flags.file + " with a Dockerfile on stdin: give one or the other");
            options.dockerfile_text = stdin_dockerfile;
        }
    } else {
        options.context_dir = flags.context;
        if (!path_exists(flags.context))
            fail("unable to prepare context: path \"" + flags.context + "\" not found");
    }

    if (options.dockerfile_text.empty()) {
        if (flags.file == "-") {
            if (stdin_used) fail("-f - and a context on stdin: stdin cannot hold both");
            options.dockerfile_text = read_all(0);
        } else if (!flags.file.empty()) {
            options.dockerfile_text = read_file(flags.file);
            options.dockerfile_name = flags.file;
        } else {
            auto source = build::SourceTree::context(options.context_dir);
            auto text = source.read_small_file("Dockerfile");
            if (!text) text = source.read_small_file("dockerfile");
            if (!text)
                fail("no Dockerfile in the build context " + flags.context + ": give one with -f");
            options.dockerfile_text = *text;
        }
    }

    engine::Engine engine = open_engine(global);
    image::Image result = build::build_image(store_options, engine, options);
    if (!flags.iidfile.empty()) write_file_atomic(flags.iidfile, result.id.str());
    if (flags.quiet) {
        std::cout << result.id.str() << "\n";
        return;
    }
    std::cout << "Successfully built " << result.id.short_hex() << "\n";
    for (const auto& tag : flags.tags)
        std::cout << "Successfully tagged " << familiar(tag) << "\n";
}

} // namespace

void add_build_commands(CLI::App& app, CLI::App& image_group, GlobalOptions& global) {
    for (CLI::App* parent : {&app, &image_group}) {
        CLI::App* command = parent->add_subcommand("build", "Build an image from a Dockerfile");
        auto flags = std::make_shared<BuildFlags>();
        command->add_option("-t,--tag", flags->tags, "Name and tag the image (name:tag)");
        command->add_option("-f,--file", flags->file,
                            "The Dockerfile (default: CONTEXT/Dockerfile)");
        command->add_option("--build-arg", flags->build_args,
                            "Set a build-time variable (KEY=value)");
        command->add_option("--target", flags->target, "Build this stage and what it needs");
        command->add_flag("--no-cache", flags->no_cache, "Do not use the cache");
        command->add_flag("--pull", flags->pull, "Always pull the FROM images");
        command->add_option("--secret", flags->secrets,
                            "A secret for RUN --mount=type=secret (id=NAME,src=FILE)");
        command->add_option("--label", flags->labels, "Set a label on the image (KEY=value)");
        command->add_flag("-q,--quiet", flags->quiet, "Print only the image ID");
        command->add_option("--iidfile", flags->iidfile, "Write the image ID to this file");
        command->add_option("CONTEXT", flags->context, "A directory, or - for stdin")->required();
        command->callback([flags, &global] {
            try {
                run_build(*flags, global);
            } catch (const build::RunStepFailed& error) {
                std::fflush(stdout);
                std::cerr << "berth: " << error.what() << "\n";
                exit_with(error.exit_code() > 0 && error.exit_code() < 256 ? error.exit_code() : 1);
            }
        });
    }
}

} // namespace berth::cli
