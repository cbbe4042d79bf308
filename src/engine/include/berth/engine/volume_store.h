// The volumes table of berth.db: named and anonymous volumes, whose data
// lives in <root>/volumes/<name>/_data as Docker's local driver keeps it.
// Which containers use a volume is read from the containers' own records,
// so that the two tables never disagree.
#pragma once

#include "berth/image/database.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace berth::engine {

struct VolumeRecord {
    std::string name;
    std::string created; // RFC 3339
    std::map<std::string, std::string> labels;
    bool anonymous = false;
};

class VolumeStore {
  public:
    explicit VolumeStore(image::Database& database);

    // Records the volume; false (and no change) if one of that name exists.
    bool insert(const VolumeRecord& record);
    std::optional<VolumeRecord> find(const std::string& name);
    std::vector<VolumeRecord> list(); // by name
    void remove(const std::string& name);

  private:
    image::Database& database_;
};

// <root>/volumes/<name>: the volume's directory; its data is in "/_data".
std::string volume_directory(const std::string& root, const std::string& name);

} // namespace berth::engine
