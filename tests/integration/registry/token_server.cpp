// A token server of the test's own for the registry's bearer flow: JWTs
// signed RS256 with a key made by openssl at test time, the certificate in
// the x5c header so that docker-registry checks it against its root bundle.
// Anonymous callers get pull access only; `user`:`password` get what they ask.
#include "registry_fixture.hpp"

#include "berth_test/loopback_server.hpp"
#include "berth_test/run_command.hpp"
#include "berth_test/text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace registry_test {

namespace {

std::string base64(const std::string& data, bool url) {
    static const char* standard =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char* url_safe =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char* alphabet = url ? url_safe : standard;
    std::string out;
    for (std::size_t i = 0; i < data.size(); i += 3) {
        std::uint32_t chunk = static_cast<unsigned char>(data[i]) << 16;
        if (i + 1 < data.size()) chunk |= static_cast<unsigned char>(data[i + 1]) << 8;
        if (i + 2 < data.size()) chunk |= static_cast<unsigned char>(data[i + 2]);
        out += alphabet[(chunk >> 18) & 63];
        out += alphabet[(chunk >> 12) & 63];
        if (i + 1 < data.size())
            out += alphabet[(chunk >> 6) & 63];
        else if (!url)
            out += '=';
        if (i + 2 < data.size())
            out += alphabet[chunk & 63];
        else if (!url)
            out += '=';
    }
    return out;
}

std::string url_decode(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += text[i] == '+' ? ' ' : text[i];
        }
    }
    return out;
}

} // namespace

TokenServer::TokenServer(const std::filesystem::path& dir, std::string user, std::string password)
    : user_(std::move(user)), password_(std::move(password)) {
    std::filesystem::create_directories(dir);
    std::string script = R"(set -e
cd "$1"
openssl req -x509 -newkey rsa:2048 -nodes -keyout token.key -out token.crt -days 2 -subj /CN=berth-test-token 2>/dev/null
openssl x509 -in token.crt -outform DER -out token.der
)";
    auto made = berth_test::run_command({"bash", "-c", script, "bash", dir.string()}, {}, 60000);
    EXPECT_EQ(made.exit_code, 0) << made;
    bundle_ = (dir / "token.crt").string();
    key_path_ = (dir / "token.key").string();
    cert_der_base64_ = base64(berth_test::read_text(dir / "token.der"), false);

    server_ = std::make_unique<berth_test::LoopbackServer>([this](int client) { answer(client); });
}

// server_, declared last, stops first.
TokenServer::~TokenServer() = default;

std::vector<std::string> TokenServer::scopes() {
    std::lock_guard guard(lock_);
    return scopes_;
}

void TokenServer::answer(int client) {
    // One request per connection; the answer says so.
    std::string request;
    char buffer[4096];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
        pollfd in{client, POLLIN, 0};
        if (::poll(&in, 1, 5000) <= 0) break;
        ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<std::size_t>(n));
    }
    ++requests_;
    int status = 200;
    std::string body = handle(request, status);
    std::string answer =
        "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Unauthorized") +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n\r\n" + body;
    ::send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
    ::close(client);
}

std::string TokenServer::handle(const std::string& request, int& status) {
    std::string line = request.substr(0, request.find("\r\n"));
    std::string target = line.substr(line.find(' ') + 1);
    target = target.substr(0, target.find(' '));
    std::vector<std::string> scopes;
    std::string service;
    if (auto query = target.find('?'); query != std::string::npos) {
        std::stringstream parameters(target.substr(query + 1));
        for (std::string pair; std::getline(parameters, pair, '&');) {
            auto equals = pair.find('=');
            std::string key = pair.substr(0, equals);
            std::string value =
                equals == std::string::npos ? "" : url_decode(pair.substr(equals + 1));
            if (key == "scope") scopes.push_back(value);
            if (key == "service") service = value;
        }
    }
    bool authenticated = false;
    auto authorization = request.find("\r\nAuthorization: Basic ");
    if (authorization != std::string::npos) {
        std::string given = request.substr(authorization + 23);
        given = given.substr(0, given.find("\r\n"));
        if (given != base64(user_ + ":" + password_, false)) {
            status = 401;
            return R"({"details":"incorrect username or password"})";
        }
        authenticated = true;
    }
    nlohmann::json access = nlohmann::json::array();
    for (const auto& scope : scopes) {
        {
            std::lock_guard guard(lock_);
            scopes_.push_back(scope);
        }
        // repository:name:actions
        auto first = scope.find(':');
        auto last = scope.rfind(':');
        if (first == std::string::npos || first == last) continue;
        nlohmann::json actions = nlohmann::json::array();
        std::stringstream list(scope.substr(last + 1));
        for (std::string action; std::getline(list, action, ',');)
            if (authenticated || action == "pull") actions.push_back(action);
        access.push_back({{"type", scope.substr(0, first)},
                          {"name", scope.substr(first + 1, last - first - 1)},
                          {"actions", actions}});
    }
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    nlohmann::json claims = {{"iss", "berth-test-issuer"},
                             {"sub", authenticated ? user_ : ""},
                             {"aud", service},
                             {"exp", now + 600},
                             {"nbf", now - 10},
                             {"iat", now},
                             {"jti", std::to_string(now) + "-" + std::to_string(requests_.load())},
                             {"access", access}};
    nlohmann::json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"x5c", {cert_der_base64_}}};
    std::string unsigned_token = base64(header.dump(), true) + "." + base64(claims.dump(), true);
    std::string token = unsigned_token + "." + sign(unsigned_token);
    return nlohmann::json{{"token", token}, {"access_token", token}, {"expires_in", 600}}.dump();
}

std::string TokenServer::sign(const std::string& payload) {
    FILE* file = std::fopen(key_path_.c_str(), "r");
    if (!file) return {};
    EVP_PKEY* key = PEM_read_PrivateKey(file, nullptr, nullptr, nullptr);
    std::fclose(file);
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    std::size_t length = 0;
    EVP_DigestSignInit(context, nullptr, EVP_sha256(), nullptr, key);
    EVP_DigestSign(context, nullptr, &length,
                   reinterpret_cast<const unsigned char*>(payload.data()), payload.size());
    std::string signature(length, '\0');
    EVP_DigestSign(context, reinterpret_cast<unsigned char*>(signature.data()), &length,
                   reinterpret_cast<const unsigned char*>(payload.data()), payload.size());
    signature.resize(length);
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(key);
    return base64(signature, true);
}

} // namespace registry_test
