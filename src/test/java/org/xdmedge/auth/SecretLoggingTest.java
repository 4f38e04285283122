package org.xdmedge.auth;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import com.nimbusds.jose.jwk.RSAKey;
import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.xdmedge.testing.TestEdge;
import org.xdmedge.testing.TestTokens;

/**
 * With debug logging on, a mix of good and bad authenticated calls (and a browser call with
 * identity cookies) leaves no token, API key or cookie value in the logs, and every line logged
 * while serving them names its request id.
 */
class SecretLoggingTest {
    static final String ORG = TestEdge.ORG;
    static final String API_KEY = "apikey-7f3c9e1d5b";

    @TempDir
    Path dir;

    @Test
    void secretsStayOutOfLogsAndEveryRequestLineHasItsRequestId() throws Exception {
        RSAKey fileKey = TestTokens.rsa("file-key");
        RSAKey urlKey = TestTokens.rsa("url-key");
        Path jwks = TestTokens.writeJwks(dir.resolve("keys.json"), fileKey);
        String published = TestTokens.jwks(urlKey);
        HttpServer keyServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        keyServer.createContext("/jwks", exchange -> {
            byte[] body = published.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        keyServer.start();

        Logger xdm = (Logger) LoggerFactory.getLogger("org.xdmedge");
        Level before = xdm.getLevel();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        root.addAppender(appender);
        xdm.setLevel(Level.DEBUG);
        List<String> secrets = new ArrayList<>();
        List<String> requestIds = new ArrayList<>();
        try (TestEdge edge = TestEdge.start("""
                server: { region: or2, eventLoops: 2 }
                organizations:
                  - id: %s
                    apiKeys: [ %s ]
                    auth:
                      jwksFile: %s
                      jwksUrl: http://127.0.0.1:%d/jwks
                      jwksRefreshMinSeconds: 0
                datastreams:
                  - { id: ds, orgId: %s, dataset: events }
                """.formatted(ORG, API_KEY, jwks, keyServer.getAddress().getPort(), ORG), dir.resolve("data"))) {
            synchronized (appender) {
                appender.list.clear();
            }
            String good = TestTokens.sign(fileKey, TestTokens.claims(null, API_KEY, "").build());
            String forged = TestTokens.sign(TestTokens.rsa("file-key"), TestTokens.claims(null, API_KEY, "").build());
            String unknownKid = TestTokens.sign(urlKey, "rotated-away", TestTokens.claims(null, API_KEY, "").build());
            String expired = TestTokens.sign(fileKey, TestTokens.claims(null, API_KEY, "")
                    .expirationTime(new Date(System.currentTimeMillis() - 3_600_000)).build());
            String garbage = "garbage-token-0123456789abcdef";
            secrets.addAll(List.of(good, forged, unknownKid, expired, garbage, API_KEY));
            for (String token : List.of(good, forged, unknownKid, expired, garbage)) {
                requestIds.add(call(edge, "/ee/v2/collect?datastreamId=ds", "{\"events\":[{\"xdm\":{\"identityMap\":"
                        + "{\"CRMID\":[{\"id\":\"u\",\"primary\":true}]}}}]}", "authorization", "Bearer " + token,
                        "x-api-key", API_KEY, "x-gw-ims-org-id", ORG));
            }
            requestIds.add(call(edge, "/ee/v2/collect?datastreamId=ds", "{}", "x-api-key", API_KEY));
            // A browser call with identity state as cookie and as meta.state, and a broken body.
            HttpResponse<String> first = edge.postJson("/ee/v1/interact?configId=ds",
                    "{\"events\":[{\"xdm\":{}}],\"query\":{\"identity\":{\"fetch\":[\"ECID\"]}}}");
            String cookieValue = TestEdge.json(first.body()).path("handle").findValues("payload").stream()
                    .flatMap(p -> StreamSupport.stream(p.spliterator(), false))
                    .filter(item -> item.path("key").asText().endsWith("_identity"))
                    .findFirst().orElseThrow().path("value").asText();
            secrets.add(cookieValue);
            String cookie = "kndctr_" + ORG.replace('@', '_') + "_identity=" + cookieValue;
            requestIds.add(call(edge, "/ee/v1/interact?configId=ds", "{\"events\": [", "cookie", cookie));
            requestIds.add(call(edge, "/ee/v1/interact?configId=ds", "{\"events\":[{\"xdm\":{\"_id\":5}}],\"meta\":"
                    + "{\"state\":{\"entries\":[{\"key\":\"" + cookie.split("=")[0] + "\",\"value\":\"" + cookieValue
                    + "\"}]}}}", "cookie", cookie));
        } finally {
            xdm.setLevel(before);
            root.detachAppender(appender);
            keyServer.stop(0);
        }

        List<ILoggingEvent> events;
        synchronized (appender) {
            events = new ArrayList<>(appender.list);
        }
        List<String> requestLines = new ArrayList<>();
        for (ILoggingEvent event : events) {
            String line = event.getFormattedMessage()
                    + (event.getThrowableProxy() == null ? "" : ThrowableProxyUtil.asString(event.getThrowableProxy()));
            for (String secret : secrets) {
                assertThat(line).as("a log line shows a secret").doesNotContain(secret);
            }
            if (event.getLoggerName().startsWith("org.xdmedge") && !event.getFormattedMessage().startsWith("xdm-edge stop")) {
                requestLines.add(line);
            }
        }
        // The refusals, the key fetch and the broken bodies were all logged, each with its request id.
        assertThat(requestLines).hasSizeGreaterThanOrEqualTo(6);
        for (String line : requestLines) {
            assertThat(line).containsPattern("requestId=\\S+");
        }
        // Every refused call (all but the first, which was served and logs nothing) left its line.
        for (String requestId : requestIds.subList(1, requestIds.size())) {
            assertThat(requestLines).anySatisfy(line -> assertThat(line).contains("requestId=" + requestId));
        }
        assertThat(requestLines).anySatisfy(line -> assertThat(line).contains("JWKS").contains("requestId="));
    }

    private static String call(TestEdge edge, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(edge.uri(path)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        HttpResponse<String> response = edge.send(request);
        return response.headers().firstValue("x-request-id").orElseThrow();
    }
}
