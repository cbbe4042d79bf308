// berth image mount / unmount: a read-only view of an image's files.
#include "commands.h"

#include "berth/base/error.h"
#include "berth/image/rootfs.h"

#include <iostream>

namespace berth::cli {

void add_mount_commands(CLI::App& image_group, GlobalOptions& global) {
    CLI::App* mount = image_group.add_subcommand("mount", "Mount images read-only and print where");
    auto references = std::make_shared<std::vector<std::string>>();
    mount->add_option("IMAGE", *references, "Images")->required();
    mount->callback([&global, references] {
        auto store = open_store(global);
        for (const auto& reference : *references)
            std::cout << image::mount_image(*store, store->resolve(reference)) << "\n";
    });

    CLI::App* unmount =
        image_group.add_subcommand("unmount", "Unmount images mounted by `image mount`")
            ->alias("umount");
    auto unmount_references = std::make_shared<std::vector<std::string>>();
    unmount->add_option("IMAGE", *unmount_references, "Images")->required();
    unmount->callback([&global, unmount_references] {
        auto store = open_store(global);
        for (const auto& reference : *unmount_references) {
            image::Image image = store->resolve(reference);
            if (!image::unmount_image(*store, image))
                std::cerr << "berth: " << reference << " was not mounted\n";
            else
                std::cout << image.id.str() << "\n";
        }
    });
}

} // namespace berth::cli
