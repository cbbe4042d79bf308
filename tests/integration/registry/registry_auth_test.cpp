// Authentication against real registries: docker-registry with TLS (a test
// CA) and htpasswd basic auth, and docker-registry with token auth served by
// the tests' own token server (the bearer challenge flow).
#include "registry_fixture.hpp"
#include "test_helpers.hpp"

#include "berth_test/text.hpp"

namespace registry_test {
namespace {

using berth_test::read_text;

TEST(TlsRegistryTest, BasicAuthOverTlsWithATestCa) {
    if (!tools_installed())
        GTEST_SKIP() << "needs docker-registry, htpasswd (apache2-utils), openssl and curl";
    berth_test::TempDir dir("berth-registry-tls");
    fs::path certs = dir.path() / "registry";
    fs::create_directories(certs);
    make_certificates(certs);
    fs::path ca_dir = dir.path() / "ca";
    fs::create_directories(ca_dir);
    fs::copy_file(certs / "ca.crt", ca_dir / "ca.crt");
    RegistryConfig config;
    config.tls = true;
    config.htpasswd_user = "berth";
    config.htpasswd_password = "s3cret";
    RegistryProcess registry(certs, config);
    std::string host = registry.host();
    fs::path source = dir.path() / "source";
    make_busybox(source, host + "/secure/busybox:1");
    std::string auth_file = (dir.path() / "auth.json").string();
    std::vector<std::string> trusted = {"--cert-dir", ca_dir.string(), "--authfile", auth_file};

    // An unknown CA is refused, whatever the host.
    CommandResult untrusted = berth(source, {"push", host + "/secure/busybox:1"});
    EXPECT_EQ(untrusted.exit_code, 1);
    EXPECT_NE(untrusted.err.find("not trusted"), std::string::npos) << untrusted;
    EXPECT_EQ(count_lines(untrusted.err), 1) << untrusted;

    // Trusted, but without credentials.
    std::vector<std::string> push = {"push", host + "/secure/busybox:1"};
    push.insert(push.end(), trusted.begin(), trusted.end());
    CommandResult anonymous = berth(source, push);
    EXPECT_EQ(anonymous.exit_code, 1);
    EXPECT_NE(anonymous.err.find("berth login " + host), std::string::npos) << anonymous;

    std::vector<std::string> login = {"login", "-u", "berth", "--password-stdin", host};
    login.insert(login.end(), trusted.begin(), trusted.end());
    CommandResult wrong = berth(source, login, {}, "wrong\n");
    EXPECT_EQ(wrong.exit_code, 1);
    EXPECT_NE(wrong.err.find("unauthorized"), std::string::npos) << wrong;
    EXPECT_EQ(count_lines(wrong.err), 1) << wrong;
    EXPECT_FALSE(fs::exists(auth_file)) << "a failed login wrote credentials";

    CommandResult right = berth(source, login, {}, "s3cret\n");
    ASSERT_EQ(right.exit_code, 0) << right;
    EXPECT_EQ(right.out, "Login Succeeded\n");
    json file = json::parse(read_text(auth_file));
    EXPECT_EQ(file["auths"][host]["auth"], "YmVydGg6czNjcmV0"); // base64("berth:s3cret")
    EXPECT_EQ(fs::status(auth_file).permissions() & fs::perms::others_read, fs::perms::none);

    CommandResult pushed = berth(source, push);
    ASSERT_EQ(pushed.exit_code, 0) << pushed;
    fs::path root = dir.path() / "pulled";
    std::vector<std::string> pull = {"pull", host + "/secure/busybox:1"};
    pull.insert(pull.end(), trusted.begin(), trusted.end());
    CommandResult pulled = berth(root, pull);
    ASSERT_EQ(pulled.exit_code, 0) << pulled;
    EXPECT_EQ(inspect(root, host + "/secure/busybox:1")["Descriptor"],
              inspect(source, host + "/secure/busybox:1")["Descriptor"]);

    // --tls-verify=false trusts any certificate (and still needs the login).
    CommandResult insecure =
        berth(dir.path() / "insecure",
              {"pull", "--tls-verify=false", "--authfile", auth_file, host + "/secure/busybox:1"});
    EXPECT_EQ(insecure.exit_code, 0) << insecure;

    CommandResult logout = berth(source, {"logout", "--authfile", auth_file, host});
    EXPECT_EQ(logout.exit_code, 0) << logout;
    EXPECT_NE(logout.out.find("Removing login credentials for " + host), std::string::npos);
    EXPECT_FALSE(json::parse(read_text(auth_file))["auths"].contains(host));
    CommandResult logged_out = berth(dir.path() / "after", pull);
    EXPECT_EQ(logged_out.exit_code, 1) << logged_out;
    expect_empty_store(dir.path() / "after");
}

TEST(TokenRegistryTest, BearerTokensFromATokenServerCachedPerScope) {
    if (!tools_installed())
        GTEST_SKIP() << "needs docker-registry, htpasswd (apache2-utils), openssl and curl";
    berth_test::TempDir dir("berth-registry-token");
    TokenServer tokens(dir.path() / "token", "berth", "t0ken-pass");
    RegistryConfig config;
    config.token_realm = tokens.realm();
    config.token_root_bundle = tokens.root_bundle();
    RegistryProcess registry(dir.path() / "registry", config);
    std::string host = registry.host();
    fs::path source = dir.path() / "source";
    make_busybox(source, host + "/team/busybox:1");
    std::string auth_file = (dir.path() / "auth.json").string();

    // Anonymous callers only get pull access: the push is denied.
    CommandResult denied =
        berth(source, {"push", "--authfile", auth_file, host + "/team/busybox:1"});
    EXPECT_EQ(denied.exit_code, 1);
    EXPECT_NE(denied.err.find("unauthorized"), std::string::npos) << denied << registry.log();

    CommandResult login =
        berth(source, {"login", "-u", "berth", "--password-stdin", "--authfile", auth_file, host},
              {}, "t0ken-pass\n");
    ASSERT_EQ(login.exit_code, 0) << login;
    CommandResult pushed =
        berth(source, {"push", "--authfile", auth_file, host + "/team/busybox:1"});
    ASSERT_EQ(pushed.exit_code, 0) << pushed << registry.log();

    // An anonymous pull: one token, for the pull scope, used for every request.
    int before = tokens.requests();
    fs::path root = dir.path() / "pulled";
    CommandResult pulled = berth(root, {"pull", "--authfile", (dir.path() / "none.json").string(),
                                        host + "/team/busybox:1"});
    ASSERT_EQ(pulled.exit_code, 0) << pulled << registry.log();
    EXPECT_EQ(tokens.requests() - before, 1) << "tokens are not cached per scope";
    EXPECT_EQ(tokens.scopes().back(), "repository:team/busybox:pull");
    EXPECT_EQ(inspect(root, host + "/team/busybox:1")["Descriptor"],
              inspect(source, host + "/team/busybox:1")["Descriptor"]);

    CommandResult bad =
        berth(source, {"login", "-u", "berth", "--password-stdin", "--authfile", auth_file, host},
              {}, "nope\n");
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.err.find("incorrect username or password"), std::string::npos) << bad;
}

} // namespace
} // namespace registry_test
