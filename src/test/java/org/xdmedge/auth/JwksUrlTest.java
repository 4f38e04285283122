package org.xdmedge.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.TestEdge;
import org.xdmedge.testing.TestTokens;

/**
 * Keys from a JWKS URL, served by a tiny loopback HTTP server started here: fetched at start,
 * cached, fetched again when a token names an unknown kid (at most once per refresh interval).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JwksUrlTest {
    static final String ORG = TestEdge.ORG;
    static final String ORG_DOWN = "D0D0D0D0D0D0D0D0D0D0D0D0@AdobeOrg";
    static final String KEY = "url-client";

    @TempDir
    static Path dir;
    static HttpServer jwksServer;
    static final AtomicReference<String> published = new AtomicReference<>();
    static final AtomicInteger status = new AtomicInteger(200);
    static final AtomicInteger fetches = new AtomicInteger();
    static RSAKey first;
    static RSAKey second;
    static ECKey fileKey;
    static TestEdge edge;

    @BeforeAll
    static void start() throws Exception {
        first = TestTokens.rsa("url-1");
        second = TestTokens.rsa("url-2");
        fileKey = TestTokens.ec("file-1");
        published.set(TestTokens.jwks(first));
        jwksServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        jwksServer.createContext("/keys.json", exchange -> {
            fetches.incrementAndGet();
            byte[] body = published.get().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("content-type", "application/json");
            exchange.sendResponseHeaders(status.get(), body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        jwksServer.start();
        Path file = TestTokens.writeJwks(dir.resolve("file.jwks.json"), fileKey);
        // A port nothing listens on: its organization's fetch fails at start; the edge starts anyway.
        int closedPort;
        try (var probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        edge = TestEdge.start("""
                server: { region: or2, eventLoops: 2 }
                organizations:
                  - id: %s
                    apiKeys: [ %s ]
                    auth:
                      jwksFile: %s
                      jwksUrl: http://127.0.0.1:%d/keys.json
                      jwksCacheSeconds: 3600
                      jwksRefreshMinSeconds: 1
                  - id: %s
                    apiKeys: [ down-client ]
                    auth:
                      jwksUrl: http://127.0.0.1:%d/keys.json
                      jwksFetchTimeoutSeconds: 2
                datastreams:
                  - { id: url-ds, orgId: %s, dataset: events, accessType: authenticated }
                  - { id: down-ds, orgId: %s, dataset: events, accessType: authenticated }
                """.formatted(ORG, KEY, file, jwksServer.getAddress().getPort(), ORG_DOWN, closedPort, ORG, ORG_DOWN),
                dir.resolve("data"));
    }

    @AfterAll
    static void stop() {
        if (edge != null) {
            edge.close();
        }
        if (jwksServer != null) {
            jwksServer.stop(0);
        }
    }

    static HttpResponse<String> call(JWK key, String kid) throws Exception {
        String token = TestTokens.sign(key, kid, TestTokens.claims("https://issuer.test", KEY, "").build());
        return edge.send(HttpRequest.newBuilder(edge.uri("/ee/v2/collect?datastreamId=url-ds"))
                .header("content-type", "application/json").header("authorization", "Bearer " + token)
                .header("x-api-key", KEY).header("x-gw-ims-org-id", ORG)
                .POST(HttpRequest.BodyPublishers.ofString(AuthenticationTest.BATCH)));
    }

    @Test
    @Order(1)
    void keysAreFetchedAtStartAndCached() throws Exception {
        assertThat(fetches.get()).isEqualTo(1);
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> response = call(first, "url-1");
            assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        }
        assertThat(fetches.get()).isEqualTo(1);
        HttpResponse<String> fromFile = call(fileKey, "file-1");
        assertThat(fromFile.statusCode()).as(fromFile.body()).isEqualTo(202);
    }

    @Test
    @Order(2)
    void aRotatedKeyIsFetchedOnItsUnknownKid() throws Exception {
        published.set(TestTokens.jwks(second));
        HttpResponse<String> response = null;
        // The first try may fall within the refresh interval of the start-up fetch: retry, bounded.
        for (int i = 0; i < 40; i++) {
            response = call(second, "url-2");
            if (response.statusCode() == 202) {
                break;
            }
            assertThat(response.body()).contains("EXEG-0502-401");
            Thread.sleep(250);
        }
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        assertThat(fetches.get()).isGreaterThanOrEqualTo(2);
        // The published set replaced the old one: a key taken out of it is revoked.
        HttpResponse<String> revoked = call(first, "url-1");
        assertThat(revoked.statusCode()).isEqualTo(401);
        assertThat(revoked.body()).contains("EXEG-0502-401");
    }

    @Test
    @Order(3)
    void madeUpKidsDoNotTurnTheEdgeIntoAFetchAmplifier() throws Exception {
        int before = fetches.get();
        long started = System.nanoTime();
        int calls = 30;
        for (int i = 0; i < calls; i++) {
            HttpResponse<String> response = call(second, "made-up-" + i);
            assertThat(response.statusCode()).isEqualTo(401);
            assertThat(response.body()).contains("EXEG-0502-401");
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        // At most one fetch per refresh interval (1 s), plus one at the edges of the window.
        assertThat(fetches.get() - before).isLessThanOrEqualTo((int) Math.ceil(seconds) + 1).isLessThan(calls);
    }

    @Test
    @Order(4)
    void aFailingKeyUrlKeepsTheKeysAlreadyHeld() throws Exception {
        status.set(500);
        try {
            Thread.sleep(1100);  // past the refresh interval, so an unknown kid triggers a (failing) fetch
            int before = fetches.get();
            assertThat(call(second, "unknown-now").statusCode()).isEqualTo(401);
            HttpResponse<String> still = call(second, "url-2");
            assertThat(still.statusCode()).as(still.body()).isEqualTo(202);
            assertThat(fetches.get()).isGreaterThan(before);
        } finally {
            status.set(200);
        }
    }

    @Test
    @Order(5)
    void anUnreachableKeyUrlRefusesTokensButNotTheEdge() throws Exception {
        String token = TestTokens.sign(first, TestTokens.claims(null, "down-client", "").build());
        HttpResponse<String> response = edge.send(HttpRequest.newBuilder(edge.uri("/ee/v2/collect?datastreamId=down-ds"))
                .header("content-type", "application/json").header("authorization", "Bearer " + token)
                .header("x-api-key", "down-client").header("x-gw-ims-org-id", ORG_DOWN)
                .POST(HttpRequest.BodyPublishers.ofString(AuthenticationTest.BATCH)));
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.body()).contains("EXEG-0502-401");
        assertThat(edge.get("/health").statusCode()).isEqualTo(200);
    }
}
