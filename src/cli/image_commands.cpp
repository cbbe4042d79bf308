// berth images, image ls/inspect/tag/rm/prune/history, tag, rmi, history.
#include "commands.h"
#include "output.h"

#include "berth/base/error.h"
#include "berth/build/build_cache.h"
#include "berth/oci/reference.h"

#include <algorithm>
#include <fnmatch.h>
#include <iostream>
#include <set>
#include <unistd.h>

namespace berth::cli {

namespace {

using nlohmann::json;

std::string id_text(const oci::Digest& id, bool no_trunc) {
    return no_trunc ? id.str() : id.short_hex();
}

struct ListOptions {
    bool all = false, quiet = false, digests = false, no_trunc = false;
    std::string format;
    std::vector<std::string> filters;
};

// The rows of `berth images`: one per name, or one "<none>" row for an
// image without names.
std::vector<json> image_rows(const std::vector<image::Image>& images, const ListOptions& options) {
    std::vector<json> rows;
    for (const auto& image : images) {
        std::vector<std::pair<std::string, std::string>> names;
        for (const auto& name : image.names)
            names.push_back(oci::familiar_repository_and_tag(name));
        if (names.empty()) names.emplace_back("<none>", "<none>");
        for (const auto& [repository, tag] : names) {
            rows.push_back({{"Repository", repository},
                            {"Tag", tag},
                            {"ID", id_text(image.id, options.no_trunc)},
                            {"Digest", image.manifest_digest.str()},
                            {"CreatedSince", time_since(image.config.created)},
                            {"CreatedAt", image.config.created},
                            {"Size", human_size(image.size)},
                            {"Containers", "N/A"},
                            {"Dangling", image.names.empty()}});
        }
    }
    return rows;
}

bool passes_filters(const json& row, const std::vector<std::string>& filters) {
    for (const auto& filter : filters) {
        auto equals = filter.find('=');
        std::string key = filter.substr(0, equals);
        std::string value = equals == std::string::npos ? "" : filter.substr(equals + 1);
        if (key == "dangling") {
            if (value != "true" && value != "false") fail("filter dangling: use true or false");
            if (row["Dangling"].get<bool>() != (value == "true")) return false;
        } else if (key == "reference") {
            std::string name =
                row["Repository"].get<std::string>() + ":" + row["Tag"].get<std::string>();
            if (::fnmatch(value.c_str(), row["Repository"].get<std::string>().c_str(), 0) != 0 &&
                ::fnmatch(value.c_str(), name.c_str(), 0) != 0)
                return false;
        } else {
            fail("unsupported filter \"" + key + "\" (use dangling or reference)");
        }
    }
    return true;
}

const std::vector<std::pair<std::string, std::string>> image_titles = {
    {"ID", "IMAGE ID"}, {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"}};

void list_images(const GlobalOptions& global, const ListOptions& options) {
    auto store = open_store(global);
    auto images = store->list();
    std::stable_sort(images.begin(), images.end(), [](const auto& a, const auto& b) {
        return a.config.created > b.config.created;
    });
    if (!options.all) {
        // berth build's intermediate images (kept for its cache), as Docker's.
        auto intermediates = build::BuildCache(store->database()).intermediates();
        std::erase_if(images, [&](const image::Image& image) {
            return image.names.empty() && intermediates.contains(image.manifest_digest);
        });
    }
    std::vector<json> rows;
    for (auto& row : image_rows(images, options))
        if (passes_filters(row, options.filters)) rows.push_back(row);

    if (options.quiet) {
        std::set<std::string> shown;
        for (const auto& row : rows)
            if (shown.insert(row["ID"].get<std::string>()).second)
                std::cout << row["ID"].get<std::string>() << "\n";
        return;
    }
    if (!options.format.empty()) {
        Template format(options.format);
        std::vector<std::vector<std::string>> cells;
        auto split = [](const std::string& line) {
            std::vector<std::string> parts;
            std::size_t start = 0;
            for (;;) {
                auto tab = line.find('\t', start);
                parts.push_back(line.substr(start, tab == std::string::npos ? tab : tab - start));
                if (tab == std::string::npos) return parts;
                start = tab + 1;
            }
        };
        if (format.is_table()) cells.push_back(split(format.header(image_titles)));
        for (const auto& row : rows) {
            if (format.is_table())
                cells.push_back(split(format.render(row)));
            else
                std::cout << format.render(row) << "\n";
        }
        if (format.is_table()) std::cout << table(cells);
        return;
    }
    std::vector<std::vector<std::string>> cells;
    std::vector<std::string> header = {"REPOSITORY", "TAG"};
    if (options.digests) header.push_back("DIGEST");
    for (const char* title : {"IMAGE ID", "CREATED", "SIZE"})
        header.push_back(title);
    cells.push_back(header);
    for (const auto& row : rows) {
        std::vector<std::string> line = {row["Repository"], row["Tag"]};
        if (options.digests) line.push_back(row["Digest"]);
        for (const char* key : {"ID", "CreatedSince", "Size"})
            line.push_back(row[key]);
        cells.push_back(line);
    }
    std::cout << table(cells);
}

} // namespace

json image_inspect_json(image::ImageStore& store, const image::Image& image) {
    json config = json::parse(image.config_json, nullptr, false);
    json repo_tags = json::array();
    for (const auto& name : image.names)
        repo_tags.push_back(familiar(name));
    json diff_ids = json::array();
    for (const auto& id : image.config.diff_ids)
        diff_ids.push_back(id.str());
    std::string lower_dirs;
    auto chain = image.chain_ids();
    for (auto it = chain.rbegin(); it != chain.rend(); ++it)
        lower_dirs += (lower_dirs.empty() ? "" : ":") + store.snapshots().files_path(*it);
    json out = {{"Id", image.id.str()},
                {"RepoTags", repo_tags},
                {"RepoDigests", json::array()},
                {"Created", image.config.created},
                {"Author", image.config.author},
                {"Config", config.is_object() && config.contains("config") ? config["config"]
                                                                           : json::object()},
                {"Architecture", image.config.architecture},
                {"Os", image.config.os},
                {"Size", image.size},
                {"RootFS", {{"Type", "layers"}, {"Layers", diff_ids}}},
                {"GraphDriver", {{"Name", "overlay"}, {"Data", {{"LowerDir", lower_dirs}}}}},
                {"Descriptor",
                 {{"mediaType", image.manifest.media_type},
                  {"digest", image.manifest_digest.str()},
                  {"size", store.blobs().size(image.manifest_digest)}}}};
    if (!image.config.variant.empty()) out["Variant"] = image.config.variant;
    return out;
}

namespace {

void history(const GlobalOptions& global, const std::string& reference, bool quiet, bool no_trunc,
             bool human, const std::string& format_text) {
    auto store = open_store(global);
    image::Image image = store->resolve(reference);
    auto chain = image.chain_ids();
    std::vector<oci::HistoryEntry> entries = image.config.history;
    if (entries.empty())
        for (std::size_t i = 0; i < chain.size(); ++i)
            entries.push_back({});
    // Entries that are not empty layers match the layers in order.
    std::vector<json> rows;
    std::size_t layer = 0;
    for (const auto& entry : entries) {
        std::int64_t size = 0;
        if (!entry.empty_layer && layer < chain.size()) {
            if (auto info = store->snapshots().info(chain[layer]))
                size = static_cast<std::int64_t>(info->size);
            ++layer;
        }
        std::string created_by = entry.created_by;
        if (!no_trunc && created_by.size() > 45) created_by = created_by.substr(0, 44) + "…";
        rows.push_back({{"ID", "<missing>"},
                        {"CreatedSince", human ? time_since(entry.created) : entry.created},
                        {"CreatedAt", entry.created},
                        {"CreatedBy", created_by},
                        {"Size", human ? human_size(size) : std::to_string(size)},
                        {"Comment", entry.comment}});
    }
    std::reverse(rows.begin(), rows.end());
    if (!rows.empty()) rows.front()["ID"] = id_text(image.id, no_trunc);
    if (quiet) {
        std::cout << id_text(image.id, no_trunc) << "\n";
        return;
    }
    if (!format_text.empty()) {
        Template format(format_text);
        for (const auto& row : rows)
            std::cout << format.render(row) << "\n";
        return;
    }
    std::vector<std::vector<std::string>> cells = {
        {"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"}};
    for (const auto& row : rows)
        cells.push_back(
            {row["ID"], row["CreatedSince"], row["CreatedBy"], row["Size"], row["Comment"]});
    std::cout << table(cells);
}

void print_removed(const image::RemoveResult& result) {
    for (const auto& name : result.untagged)
        std::cout << "Untagged: " << familiar(name) << "\n";
    for (const auto& id : result.deleted)
        std::cout << "Deleted: " << id.str() << "\n";
}

bool confirm(const std::string& warning) {
    std::cerr << warning << "\nAre you sure you want to continue? [y/N] " << std::flush;
    std::string answer;
    if (!std::getline(std::cin, answer)) return false;
    return answer == "y" || answer == "Y" || answer == "yes";
}

void define_list(CLI::App* command, GlobalOptions& global) {
    auto options = std::make_shared<ListOptions>();
    command->add_flag("-a,--all", options->all,
                      "Show all images, with the intermediate ones of berth build");
    command->add_flag("-q,--quiet", options->quiet, "Only show image IDs");
    command->add_flag("--digests", options->digests, "Show manifest digests");
    command->add_flag("--no-trunc", options->no_trunc, "Show full image IDs");
    command->add_option("-f,--filter", options->filters, "dangling=true|false, reference=PATTERN");
    command->add_option("--format", options->format,
                        "Go-template-like format: {{.Repository}} {{.Tag}} {{.ID}} {{.Digest}} "
                        "{{.Size}} {{.CreatedSince}} {{.CreatedAt}}, \"table ...\" for a table");
    command->callback([&global, options] { list_images(global, *options); });
}

void define_tag(CLI::App* command, GlobalOptions& global) {
    auto names = std::make_shared<std::vector<std::string>>();
    command->add_option("SOURCE_IMAGE TARGET_IMAGE", *names, "Image and its new name")
        ->required()
        ->expected(2);
    command->callback([&global, names] { open_store(global)->tag((*names)[0], (*names)[1]); });
}

void define_remove(CLI::App* command, GlobalOptions& global) {
    auto references = std::make_shared<std::vector<std::string>>();
    auto force = std::make_shared<bool>(false);
    command->add_flag("-f,--force", *force,
                      "Remove an image with several names, or the names of one a container uses");
    command->add_option("IMAGE", *references, "Images to remove")->required();
    command->callback([&global, references, force] {
        auto store = open_store(global);
        int failures = 0;
        for (const auto& reference : *references) {
            try {
                print_removed(store->remove(reference, *force));
            } catch (const Error& error) {
                std::cerr << "berth: " << error.what() << "\n";
                ++failures;
            }
        }
        if (failures) std::exit(1);
    });
}

void define_history(CLI::App* command, GlobalOptions& global) {
    struct Options {
        std::string reference, format;
        bool quiet = false, no_trunc = false, human = true;
    };
    auto options = std::make_shared<Options>();
    command->add_option("IMAGE", options->reference, "Image")->required();
    command->add_flag("-q,--quiet", options->quiet, "Only show image IDs");
    command->add_flag("--no-trunc", options->no_trunc, "Do not truncate output");
    command->add_option("-H,--human", options->human,
                        "Sizes and dates in human form (default true)");
    command->add_option("--format", options->format,
                        "Go-template-like format: {{.ID}} {{.CreatedBy}} ...");
    command->callback([&global, options] {
        history(global, options->reference, options->quiet, options->no_trunc, options->human,
                options->format);
    });
}

} // namespace

void add_image_commands(CLI::App& app, CLI::App& image_group, GlobalOptions& global) {
    define_list(app.add_subcommand("images", "List images"), global);
    define_list(image_group.add_subcommand("ls", "List images")->alias("list"), global);
    define_tag(app.add_subcommand("tag", "Give an image another name"), global);
    define_tag(image_group.add_subcommand("tag", "Give an image another name"), global);
    define_remove(app.add_subcommand("rmi", "Remove images"), global);
    define_remove(image_group.add_subcommand("rm", "Remove images")->alias("remove"), global);
    define_history(app.add_subcommand("history", "Show the history of an image"), global);
    define_history(image_group.add_subcommand("history", "Show the history of an image"), global);

    CLI::App* inspect = image_group.add_subcommand("inspect", "Show images in detail");
    auto references = std::make_shared<std::vector<std::string>>();
    auto format = std::make_shared<std::string>();
    inspect->add_option("IMAGE", *references, "Images")->required();
    inspect->add_option("-f,--format", *format, "Go-template-like format, e.g. {{.Config.Cmd}}");
    inspect->callback([&global, references, format] {
        auto store = open_store(global);
        json all = json::array();
        int failures = 0;
        for (const auto& reference : *references) {
            try {
                all.push_back(image_inspect_json(*store, store->resolve(reference)));
            } catch (const Error& error) {
                std::cerr << "berth: " << error.what() << "\n";
                ++failures;
            }
        }
        print_inspected(all, *format);
        if (failures) std::exit(1);
    });

    CLI::App* prune = image_group.add_subcommand("prune", "Remove unused images");
    auto all = std::make_shared<bool>(false);
    auto force = std::make_shared<bool>(false);
    prune->add_flag("-a,--all", *all,
                    "Remove every image no container uses, not just unnamed ones");
    prune->add_flag("-f,--force", *force, "Do not ask for confirmation");
    prune->callback([&global, all, force] {
        if (!*force && !confirm(*all ? "WARNING! This will remove all images without at least one "
                                       "container associated to them."
                                     : "WARNING! This will remove all dangling images."))
            return;
        auto store = open_store(global);
        auto before = store->list();
        std::int64_t before_size = 0;
        for (const auto& image : before)
            before_size += image.size;
        image::RemoveResult result = store->prune(*all);
        std::int64_t after_size = 0;
        for (const auto& image : store->list())
            after_size += image.size;
        if (!result.untagged.empty() || !result.deleted.empty()) {
            std::cout << "Deleted Images:\n";
            for (const auto& name : result.untagged)
                std::cout << "untagged: " << familiar(name) << "\n";
            for (const auto& id : result.deleted)
                std::cout << "deleted: " << id.str() << "\n";
            std::cout << "\n";
        }
        std::cout << "Total reclaimed space: " << human_size(before_size - after_size) << "\n";
    });
}

} // namespace berth::cli
