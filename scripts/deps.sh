# Sourced by scripts/install and scripts/test: installs Debian packages that
# are missing, quietly, and only runs apt-get when something is missing.
install_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "berth: these packages are needed, run as root: ${missing[*]}" >&2
        return 1
    fi
    echo "berth: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# What building berth needs.
build_packages=(g++ cmake ninja-build git pkg-config nlohmann-json3-dev libseccomp-dev
    libssl-dev libsqlite3-dev libisal-dev libzstd-dev libcli11-dev libcurl4-openssl-dev libnftables-dev)
# What the built-in bundle and image are made from.
image_packages=(busybox-static)
