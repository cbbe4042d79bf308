#include "registry_fixture.hpp"

#include "berth_test/loopback_server.hpp"
#include "berth_test/run_command.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace registry_test {

namespace fs = std::filesystem;

bool wait_for_port(int port, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<std::uint16_t>(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
        ::close(fd);
        if (up) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

void make_certificates(const fs::path& dir) {
    std::string script = R"(set -e
cd "$1"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=berth-test-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile san.ext 2>/dev/null
)";
    auto made = berth_test::run_command({"bash", "-c", script, "bash", dir.string()}, {}, 60000);
    ASSERT_EQ(made.exit_code, 0) << made;
}

RegistryProcess::RegistryProcess(const fs::path& dir, const RegistryConfig& config) : dir_(dir) {
    fs::create_directories(dir_ / "storage");
    port_ = berth_test::free_loopback_port();
    std::ostringstream yaml;
    yaml << "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\n"
         << "storage:\n  filesystem:\n    rootdirectory: " << (dir_ / "storage").string()
         << "\n  delete:\n    enabled: true\n"
         << "http:\n  addr: 127.0.0.1:" << port_ << "\n";
    if (config.tls)
        yaml << "  tls:\n    certificate: " << (dir_ / "server.crt").string()
             << "\n    key: " << (dir_ / "server.key").string() << "\n";
    if (!config.htpasswd_user.empty()) {
        auto made = berth_test::run_command(
            {"htpasswd", "-Bbn", config.htpasswd_user, config.htpasswd_password});
        EXPECT_EQ(made.exit_code, 0) << made;
        std::ofstream(dir_ / "htpasswd") << made.out;
        yaml << "auth:\n  htpasswd:\n    realm: berth-test\n    path: "
             << (dir_ / "htpasswd").string() << "\n";
    } else if (!config.token_realm.empty()) {
        yaml << "auth:\n  token:\n    realm: " << config.token_realm
             << "\n    service: berth-test-registry\n    issuer: berth-test-issuer\n"
             << "    rootcertbundle: " << config.token_root_bundle << "\n";
    }
    std::ofstream(dir_ / "config.yml") << yaml.str();
    std::string log = (dir_ / "registry.log").string();
    std::string config_path = (dir_ / "config.yml").string();
    pid_ = ::fork();
    if (pid_ == 0) {
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::execlp("docker-registry", "docker-registry", "serve", config_path.c_str(), nullptr);
        ::_exit(127);
    }
    if (!wait_for_port(port_)) ADD_FAILURE() << "docker-registry did not start: " << this->log();
}

RegistryProcess::~RegistryProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
    }
}

std::string RegistryProcess::log() const {
    std::ifstream in(dir_ / "registry.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace registry_test
