package dev.matviews.support;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/** The production access rules, with known passwords and signing key. */
public class SecuredProfile implements QuarkusTestProfile {

    public static final String KEY = "test-only-signing-key-not-for-production-use";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("quarkus.http.auth.permission.read.policy", "viewer",
                "quarkus.http.auth.permission.write.policy", "admin",
                "matviews.auth.admin-password", "admin-secret",
                "matviews.auth.viewer-password", "viewer-secret",
                "matviews.auth.signing-key", KEY,
                "matviews.scheduler.enabled", "false",
                // As behind an ingress: the client's address comes from X-Forwarded-For.
                "quarkus.http.proxy.proxy-address-forwarding", "true",
                "quarkus.http.proxy.allow-x-forwarded", "true",
                "quarkus.http.proxy.trusted-proxies", "127.0.0.1,::1");
    }
}
