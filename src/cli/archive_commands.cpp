// berth load, save, import (and their `berth image` forms).
#include "commands.h"

#include "berth/base/error.h"
#include "berth/base/files.h"
#include "berth/base/syscalls.h"
#include "berth/image/archive.h"

#include <fcntl.h>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

namespace berth::cli {

namespace {

bool is_directory(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void define_load(CLI::App* command, GlobalOptions& global) {
    auto input = std::make_shared<std::string>();
    auto quiet = std::make_shared<bool>(false);
    command->add_option("-i,--input", *input,
                        "Archive (docker save, OCI; may be compressed) or OCI layout directory; "
                        "default stdin");
    command->add_flag("-q,--quiet", *quiet, "Print nothing");
    command->callback([&global, input, quiet] {
        auto store = open_store(global);
        std::vector<image::LoadedImage> loaded;
        if (!input->empty() && is_directory(*input)) {
            loaded = image::load_oci_directory(*store, *input);
        } else {
            if (input->empty() && ::isatty(STDIN_FILENO))
                fail("requested load from stdin, but stdin is a terminal: use -i or a redirection");
            UniqueFd file;
            if (!input->empty()) file = open_fd(*input, O_RDONLY);
            image::FdSource source(input->empty() ? STDIN_FILENO : file.get(),
                                   input->empty() ? "stdin" : *input);
            loaded = with_context("loading " + (input->empty() ? std::string("stdin") : *input),
                                  [&] { return image::load_archive(*store, source); });
        }
        if (*quiet) return;
        for (const auto& image : loaded) {
            if (image.names.empty()) std::cout << "Loaded image ID: " << image.id.str() << "\n";
            for (const auto& name : image.names)
                std::cout << "Loaded image: " << familiar(name) << "\n";
        }
    });
}

void define_save(CLI::App* command, GlobalOptions& global) {
    auto output = std::make_shared<std::string>();
    auto format = std::make_shared<std::string>("docker-archive");
    auto references = std::make_shared<std::vector<std::string>>();
    command->add_option("-o,--output", *output, "File (or directory for oci-dir); default stdout");
    command->add_option("--format", *format, "docker-archive (default), oci-archive or oci-dir")
        ->check(CLI::IsMember({"docker-archive", "oci-archive", "oci-dir"}));
    command->add_option("IMAGE", *references, "Images to save")->required();
    command->callback([&global, output, format, references] {
        auto store = open_store(global);
        if (*format == "oci-dir") {
            if (output->empty()) fail("--format oci-dir needs -o DIRECTORY");
            image::save_images(*store, *references, image::SaveFormat::oci_directory, -1, *output);
            return;
        }
        auto kind = *format == "oci-archive" ? image::SaveFormat::oci_archive
                                             : image::SaveFormat::docker_archive;
        if (output->empty()) {
            if (::isatty(STDOUT_FILENO))
                fail("refusing to write an archive to a terminal: use -o or a redirection");
            image::save_images(*store, *references, kind, STDOUT_FILENO);
            return;
        }
        // Written beside the target and renamed, so a failed save leaves no
        // truncated archive behind under the name asked for.
        std::string temporary = *output + ".berth-tmp";
        try {
            UniqueFd file = open_fd(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            image::save_images(*store, *references, kind, file.get());
            if (::rename(temporary.c_str(), output->c_str()) < 0) throw_errno("writing " + *output);
        } catch (...) {
            ::unlink(temporary.c_str());
            throw;
        }
    });
}

void define_import(CLI::App* command, GlobalOptions& global) {
    struct Options {
        std::string source, name, message, platform;
        std::vector<std::string> changes;
    };
    auto options = std::make_shared<Options>();
    command
        ->add_option("file", options->source,
                     "Rootfs tarball (plain, gzip or zstd), or - for stdin")
        ->required();
    command->add_option("REPOSITORY[:TAG]", options->name, "Name of the new image");
    command->add_option("-c,--change", options->changes,
                        "Dockerfile instruction for the config: CMD, ENTRYPOINT, ENV, EXPOSE, "
                        "LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL");
    command->add_option("-m,--message", options->message, "Comment for the history");
    command->add_option("--platform", options->platform,
                        "Only this machine's platform is supported");
    command->callback([&global, options] {
        auto store = open_store(global);
        image::ImportOptions import;
        import.changes = options->changes;
        import.message = options->message;
        import.source_name = options->source;
        UniqueFd file;
        bool from_stdin = options->source == "-";
        if (!from_stdin) file = open_fd(options->source, O_RDONLY);
        image::FdSource source(from_stdin ? STDIN_FILENO : file.get(), options->source);
        std::vector<std::string> names;
        if (!options->name.empty()) names.push_back(options->name);
        image::Image image = image::import_tarball(*store, source, names, import);
        std::cout << image.id.str() << "\n";
    });
}

} // namespace

void add_archive_commands(CLI::App& app, CLI::App& image_group, GlobalOptions& global) {
    define_load(app.add_subcommand("load", "Load images from an archive"), global);
    define_load(image_group.add_subcommand("load", "Load images from an archive"), global);
    define_save(app.add_subcommand("save", "Save images to an archive"), global);
    define_save(image_group.add_subcommand("save", "Save images to an archive"), global);
    define_import(app.add_subcommand("import", "Make an image from a rootfs tarball"), global);
    define_import(image_group.add_subcommand("import", "Make an image from a rootfs tarball"),
                  global);
}

} // namespace berth::cli
