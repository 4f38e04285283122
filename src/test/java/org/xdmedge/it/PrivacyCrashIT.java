package org.xdmedge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.privacy.AdminTokens;
import org.xdmedge.testing.EdgeProcess;
import org.xdmedge.testing.TestEdge;

/**
 * SIGKILL while a delete job rewrites a segment: after a restart the job completes and reclaims,
 * no acknowledged event of anyone else is lost or doubled, and the deleted events stay deleted.
 * The segment is made about 24 MB (plain frames) so its rewrite lasts long enough to be caught.
 */
class PrivacyCrashIT {
    static final String TOKEN = "privacy-crash-token";
    static final String YAML = """
            server: { region: or2, maxRequestBytes: 4194304, eventLoops: 2 }
            storage: { compression: none }
            organizations:
              - id: 53A16ACB5CC1D3760A495C99@AdobeOrg
            datastreams:
              - id: ds
                orgId: 53A16ACB5CC1D3760A495C99@AdobeOrg
                dataset: web-events
            privacy:
              adminTokens: [%s]
              reclaimMinutes: 0
            """.formatted(AdminTokens.sha256Hex(TOKEN));
    static final int REQUESTS = 120;
    static final int EVENTS_EACH = 50;
    static final int PEOPLE = 40;
    static final String PAD = "x".repeat(4000);

    @TempDir
    Path dir;

    static String ecid(int person) {
        return String.format("%038d", 20_000_000L + person);
    }

    @Test
    void sigkillDuringARewriteLosesNothingAndTheDeleteCompletes() throws Exception {
        Path data = dir.resolve("data");
        HttpClient client = HttpClient.newHttpClient();
        Set<String> acknowledged = new HashSet<>();
        String jobId;
        boolean sawRewrite = false;
        try (EdgeProcess edge = EdgeProcess.start(dir.resolve("run"), data, YAML)) {
            for (int r = 0; r < REQUESTS; r++) {
                int person = r % PEOPLE;
                StringBuilder body = new StringBuilder("{\"events\":[");
                for (int i = 0; i < EVENTS_EACH; i++) {
                    body.append(i > 0 ? "," : "").append("{\"xdm\":{\"_id\":\"ev-").append(r).append('-').append(i)
                            .append("\",\"eventType\":\"t\",\"identityMap\":{\"ECID\":[{\"id\":\"").append(ecid(person))
                            .append("\"}]},\"web\":{\"webPageDetails\":{\"name\":\"mark-p").append(person).append("-")
                            .append(PAD).append("\"}}}}");
                }
                body.append("]}");
                HttpResponse<String> res = client.send(HttpRequest.newBuilder(
                                URI.create(edge.baseUrl() + "/ee/v2/collect?datastreamId=ds"))
                        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(202, res.statusCode(), res.body());
                for (int i = 0; i < EVENTS_EACH; i++) {
                    acknowledged.add("ev-" + r + "-" + i);
                }
            }
            HttpResponse<String> submitted = client.send(HttpRequest.newBuilder(URI.create(edge.baseUrl() + "/privacy/jobs"))
                    .header("authorization", "Bearer " + TOKEN).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("""
                            {"companyContexts":[{"namespace":"imsOrgID","value":"%s"}],"regulation":"gdpr",
                             "users":[{"key":"k","action":["delete"],"userIDs":[{"namespace":"ECID","value":"%s"}]}]}"""
                            .formatted(TestEdge.ORG, ecid(7)))).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(202, submitted.statusCode(), submitted.body());
            jobId = TestEdge.json(submitted.body()).get("jobs").get(0).get("jobId").asText();
            Path events = data.resolve("events");
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!sawRewrite && System.nanoTime() < deadline) {
                try (Stream<Path> files = Files.list(events)) {
                    sawRewrite = files.anyMatch(f -> f.getFileName().toString().endsWith(".rewrite"));
                }
            }
            edge.kill();
        }
        assertTrue(sawRewrite, "the kill was to come while a segment was being rewritten");

        try (TestEdge edge = TestEdge.start(YAML, data)) {
            long deadline = System.nanoTime() + 30_000_000_000L;
            JsonNode status;
            do {
                Thread.sleep(50);
                status = TestEdge.json(edge.send(HttpRequest.newBuilder(edge.uri("/privacy/jobs/" + jobId))
                        .header("authorization", "Bearer " + TOKEN)).body());
            } while (!status.path("reclaimed").asBoolean() && System.nanoTime() < deadline);
            assertEquals("complete", status.get("status").asText(), status.toString());
            assertTrue(status.get("reclaimed").asBoolean(), status.toString());
            assertEquals(REQUESTS / PEOPLE * EVENTS_EACH, status.get("events").asInt());

            Map<String, Integer> exported = new HashMap<>();
            for (JsonNode line : TestEdge.exported(data, null)) {
                exported.merge(line.get("eventId").asText(), 1, Integer::sum);
            }
            Set<String> expected = new HashSet<>();
            for (String id : acknowledged) {
                int r = Integer.parseInt(id.split("-")[1]);
                if (r % PEOPLE != 7) {
                    expected.add(id);
                }
            }
            assertEquals(expected, exported.keySet());
            assertTrue(exported.values().stream().allMatch(n -> n == 1), "every event exported once");
            try (Stream<Path> files = Files.list(data.resolve("events"))) {
                assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".rewrite")));
            }
            try (Stream<Path> files = Files.walk(data)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    String raw = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                    assertFalse(raw.contains("mark-p7-") || raw.contains(ecid(7)), f + " still holds the deleted events");
                }
            }
        }
    }
}
