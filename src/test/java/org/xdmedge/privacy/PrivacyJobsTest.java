package org.xdmedge.privacy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.cli.XdmEdgeCommand;
import org.xdmedge.config.ConfigException;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.testing.TestEdge;

/**
 * Privacy jobs against the real server and store. One access test runs on the full store
 * of 100,000 events of 1,000 people (about 9 s, mostly sending them); the others use 2,000 events
 * of 200 people (10 each): matching is a full scan whatever the count, and the smaller store keeps
 * each to a few seconds. Frames are written plain ({@code storage.compression: none}) unless a test
 * says otherwise, so the raw bytes of the data directory can be searched for what a delete must
 * remove.
 */
class PrivacyJobsTest {
    static final String TOKEN = "privacy-admin-token-1";
    static final int PEOPLE = 200;
    static final int EVENTS_EACH = 10;
    static final String ORG = TestEdge.ORG;

    @TempDir
    Path dir;

    static String config(int reclaimMinutes) {
        return TestEdge.BASIC_CONFIG + """
                storage: { compression: none }
                privacy:
                  adminTokens: [%s]
                  reclaimMinutes: %d
                """.formatted(AdminTokens.sha256Hex(TOKEN), reclaimMinutes);
    }

    static String ecid(int person) {
        return String.format("%038d", 10_000_000L + person);
    }

    static String email(int person) {
        return AdminTokens.sha256Hex("person" + person + "@example.com");
    }

    static String marker(int person, int i) {
        return "secret-p" + person + "-e" + i + "-";
    }

    /** Person p's events: every one carries its ECID; only the even ones its hashed email too. */
    static void load(TestEdge edge, int fromPerson, int toPerson) throws Exception {
        for (int p = fromPerson; p < toPerson; p++) {
            StringBuilder body = new StringBuilder("{\"events\":[");
            for (int i = 0; i < EVENTS_EACH; i++) {
                if (i > 0) {
                    body.append(',');
                }
                String emailItem = i % 2 == 0 ? ",\"Email_LC_SHA256\":[{\"id\":\"" + email(p) + "\"}]" : "";
                body.append("{\"xdm\":{\"eventType\":\"web.webpagedetails.pageViews\",\"_id\":\"ev-").append(p).append('-')
                        .append(i).append("\",\"identityMap\":{\"ECID\":[{\"id\":\"").append(ecid(p))
                        .append("\",\"primary\":true}]").append(emailItem).append("},\"web\":{\"webPageDetails\":{\"name\":\"")
                        .append(marker(p, i)).append("\"}}}}");
            }
            body.append("]}");
            HttpResponse<String> res = edge.postJson("/ee/v2/collect?datastreamId=ds", body.toString());
            assertEquals(202, res.statusCode(), res.body()); // collect acknowledges stored events with 202
        }
    }

    static HttpResponse<String> admin(TestEdge edge, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(edge.uri(path)).header("authorization", "Bearer " + TOKEN);
        b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                : b.header("content-type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        return edge.send(b);
    }

    static String job(String action, String namespace, String value) {
        return """
                {"companyContexts":[{"namespace":"imsOrgID","value":"%s"}],
                 "users":[{"key":"user-1","action":["%s"],"userIDs":[{"namespace":"%s","value":"%s","type":"standard"}]}],
                 "regulation":"gdpr"}""".formatted(ORG, action, namespace, value);
    }

    static String submit(TestEdge edge, String action, String namespace, String value) throws Exception {
        HttpResponse<String> res = admin(edge, "POST", "/privacy/jobs", job(action, namespace, value));
        assertEquals(202, res.statusCode(), res.body());
        return TestEdge.json(res.body()).get("jobs").get(0).get("jobId").asText();
    }

    /** Polls the job until {@code done} holds of its status document. */
    static JsonNode await(TestEdge edge, String jobId, Predicate<JsonNode> done) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            HttpResponse<String> res = admin(edge, "GET", "/privacy/jobs/" + jobId, null);
            assertEquals(200, res.statusCode(), res.body());
            JsonNode status = TestEdge.json(res.body());
            assertFalse("error".equals(status.get("status").asText()), res.body());
            if (done.test(status)) {
                return status;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("job did not finish: " + res.body());
            }
            Thread.sleep(50);
        }
    }

    static boolean complete(JsonNode s) {
        return "complete".equals(s.get("status").asText());
    }

    static boolean reclaimed(JsonNode s) {
        return complete(s) && s.path("reclaimed").asBoolean();
    }

    /** Every file's raw bytes under the data directory, as Latin-1 text (byte for byte). */
    static String rawBytes(Path dataDir) throws Exception {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.walk(dataDir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                all.append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1)).append('\n');
            }
        }
        return all.toString();
    }

    static Map<String, Integer> exportedIds(Path dataDir) throws Exception {
        Map<String, Integer> ids = new HashMap<>();
        for (JsonNode line : TestEdge.exported(dataDir, null)) {
            ids.merge(line.get("eventId").asText(), 1, Integer::sum);
        }
        return ids;
    }

    @Test
    void accessFindsOnePersonAmongAHundredThousandEventsOfAThousandPeople() throws Exception {
        try (TestEdge edge = TestEdge.start(config(0).replace("compression: none", "compression: lz4"), dir)) {
            int people = 1000;
            int each = 100;
            for (int p = 0; p < people; p++) {
                StringBuilder body = new StringBuilder("{\"events\":[");
                for (int i = 0; i < each; i++) {
                    body.append(i > 0 ? "," : "").append("{\"xdm\":{\"_id\":\"big-").append(p).append('-').append(i)
                            .append("\",\"eventType\":\"t\",\"identityMap\":{\"ECID\":[{\"id\":\"").append(ecid(p))
                            .append("\"}]}}}");
                }
                body.append("]}");
                assertEquals(202, edge.postJson("/ee/v2/collect?datastreamId=ds", body.toString()).statusCode());
            }
            String jobId = submit(edge, "access", "ECID", ecid(777));
            assertEquals(each, await(edge, jobId, PrivacyJobsTest::complete).get("events").asInt());
            List<String> lines = admin(edge, "GET", "/privacy/jobs/" + jobId + "/download", null).body().lines().toList();
            assertEquals(each, lines.size());
            assertTrue(lines.stream().allMatch(l -> l.contains(ecid(777)) && l.contains("\"big-777-")), lines.get(0));
        }
    }

    @Test
    void accessReturnsExactlyOnePersonsEventsAmongMany() throws Exception {
        try (TestEdge edge = TestEdge.start(config(0), dir)) {
            load(edge, 0, PEOPLE);
            // By ECID: the person's ten events.
            String byEcid = submit(edge, "access", "ECID", ecid(42));
            assertEquals(EVENTS_EACH, await(edge, byEcid, PrivacyJobsTest::complete).get("events").asInt());
            HttpResponse<String> download = admin(edge, "GET", "/privacy/jobs/" + byEcid + "/download", null);
            assertEquals(200, download.statusCode());
            List<String> lines = download.body().lines().toList();
            assertEquals(EVENTS_EACH, lines.size());
            for (String line : lines) {
                JsonNode record = TestEdge.json(line);
                assertEquals(ecid(42), record.get("event").get("xdm").get("identityMap").get("ECID").get(0).get("id").asText());
                assertTrue(record.has("receivedAt") && record.has("primaryIdentity"), line); // the export shape
            }
            // By hashed email: only half its events carry the hash; the ECID links the rest.
            String byEmail = submit(edge, "access", "Email_LC_SHA256", email(7));
            assertEquals(EVENTS_EACH, await(edge, byEmail, PrivacyJobsTest::complete).get("events").asInt());
            String body = admin(edge, "GET", "/privacy/jobs/" + byEmail + "/download", null).body();
            assertEquals(EVENTS_EACH, body.lines().count());
            assertTrue(body.lines().allMatch(l -> l.contains(ecid(7))), body);
            // Another organization's request finds nothing.
            String otherOrg = job("access", "ECID", ecid(42)).replace(ORG, "AAAAAAAAAAAAAAAAAAAAAAAA@AdobeOrg");
            HttpResponse<String> res = admin(edge, "POST", "/privacy/jobs", otherOrg);
            String other = TestEdge.json(res.body()).get("jobs").get(0).get("jobId").asText();
            assertEquals(0, await(edge, other, PrivacyJobsTest::complete).get("events").asInt());
        }
    }

    /** One event of person p: its ECID, and its hashed email when asked. */
    static String event(int person, String id, boolean withEmail) {
        String emailItem = withEmail ? ",\"Email_LC_SHA256\":[{\"id\":\"" + email(person) + "\"}]" : "";
        return "{\"events\":[{\"xdm\":{\"eventType\":\"t\",\"_id\":\"" + id + "\",\"identityMap\":{\"ECID\":[{\"id\":\""
                + ecid(person) + "\"}]" + emailItem + "}}}]}";
    }

    @Test
    void oneReadingFindsAPersonAndOnlyWhatCameBeforeTheirEmailIsReadAgain() throws Exception {
        try (TestEdge edge = TestEdge.start(config(0), dir)) {
            load(edge, 0, 10);
            int p = 500;
            for (int i = 0; i < 3; i++) { // ECID only, before the email shows
                assertEquals(202, edge.postJson("/ee/v2/collect?datastreamId=ds", event(p, "early-" + i, false)).statusCode());
            }
            load(edge, 10, 20);
            assertEquals(202, edge.postJson("/ee/v2/collect?datastreamId=ds", event(p, "with-email", true)).statusCode());
            load(edge, 20, 30);
            assertEquals(202, edge.postJson("/ee/v2/collect?datastreamId=ds", event(p, "late", false)).statusCode());
            Map<String, String> orgs = Map.of("ds", ORG);

            // By ECID: every event is found in the one reading; nothing is read again.
            PersonEvents.Found byEcid = PersonEvents.find(dir, orgs, ORG, "ECID", ecid(p));
            assertEquals(5, byEcid.seqs().length);
            assertEquals(0, byEcid.readAgain());
            // By email: the ECID is learned at the email's event; only the events before it are read again.
            PersonEvents.Found byEmail = PersonEvents.find(dir, orgs, ORG, "Email_LC_SHA256", email(p));
            assertEquals(5, byEmail.seqs().length);
            long total = 30 * EVENTS_EACH + 5;
            assertEquals(20 * EVENTS_EACH + 3, byEmail.readAgain(), "read again of " + total);

            // The download lists them in the log's order, the catch-up's events merged in.
            String jobId = submit(edge, "access", "Email_LC_SHA256", email(p));
            assertEquals(5, await(edge, jobId, PrivacyJobsTest::complete).get("events").asInt());
            List<String> ids = new ArrayList<>();
            for (String line : admin(edge, "GET", "/privacy/jobs/" + jobId + "/download", null).body().lines().toList()) {
                ids.add(TestEdge.json(line).get("eventId").asText());
            }
            assertEquals(List.of("early-0", "early-1", "early-2", "with-email", "late"), ids);
        }
    }

    @Test
    void aDeletedEventsIdIsStoredAgainWhenSentAgainAlsoAfterARestart() throws Exception {
        try (TestEdge edge = TestEdge.start(config(60), dir)) {
            load(edge, 0, 20);
            String jobId = submit(edge, "delete", "ECID", ecid(7));
            assertEquals(EVENTS_EACH, await(edge, jobId, PrivacyJobsTest::complete).get("events").asInt());
            // At once, before any rewrite: the deleted event's id is free, every other one still claimed.
            assertEquals(202, edge.postJson("/ee/v2/collect?datastreamId=ds", event(7, "ev-7-0", false)).statusCode());
            assertEquals(202, edge.postJson("/ee/v2/collect?datastreamId=ds", event(8, "ev-8-0", false)).statusCode());
            assertEquals(202, edge.postJson("/ee/v2/collect?datastreamId=ds", event(7, "ev-7-0", false)).statusCode());
            Map<String, Integer> ids = exportedIds(dir);
            assertEquals(Integer.valueOf(1), ids.get("ev-7-0"), "stored again, once");
            assertEquals(Integer.valueOf(1), ids.get("ev-8-0"), "another person's id stays claimed");
            assertEquals(20 * EVENTS_EACH - EVENTS_EACH + 1, ids.size());
        }
        try (TestEdge edge = TestEdge.start(config(0), dir)) { // a restart, then the rewrite
            String again = submit(edge, "access", "ECID", ecid(7));
            assertEquals(1, await(edge, again, PrivacyJobsTest::complete).get("events").asInt());
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (!reclaimedAll(dir) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(reclaimedAll(dir), "the delete job's events are rewritten away");
            assertEquals(202, edge.postJson("/ee/v2/collect?datastreamId=ds", event(7, "ev-7-1", false)).statusCode());
            assertEquals(202, edge.postJson("/ee/v2/collect?datastreamId=ds", event(7, "ev-7-0", false)).statusCode());
            assertEquals(202, edge.postJson("/ee/v2/collect?datastreamId=ds", event(9, "ev-9-3", false)).statusCode());
            Map<String, Integer> ids = exportedIds(dir);
            assertEquals(Integer.valueOf(1), ids.get("ev-7-1"), "a deleted id is free after a restart too");
            assertEquals(Integer.valueOf(1), ids.get("ev-7-0"), "the id stored again stays claimed");
            assertEquals(Integer.valueOf(1), ids.get("ev-9-3"));
            assertEquals(20 * EVENTS_EACH - EVENTS_EACH + 2, ids.size());
        }
    }

    /** A sample's value in a Prometheus scrape (tags as the registry orders them). */
    static double metric(String scrape, String sample) {
        return scrape.lines().filter(l -> l.startsWith(sample + " ")).mapToDouble(l -> Double.parseDouble(l.substring(
                sample.length() + 1).trim())).findFirst().orElseThrow(() -> new AssertionError(sample + " not in " + scrape));
    }

    /** Every delete job under the data directory is reclaimed. */
    static boolean reclaimedAll(Path dataDir) throws Exception {
        try (Stream<Path> files = Files.list(dataDir.resolve("privacy/jobs"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).toList()) {
                JsonNode job = TestEdge.json(Files.readString(f));
                if ("delete".equals(job.path("action").asText()) && !job.path("reclaimed").asBoolean()) {
                    return false;
                }
            }
        }
        return true;
    }

    @Test
    void deleteByHashedEmailRemovesTheLinkedEventsStateAndBytes() throws Exception {
        try (TestEdge edge = TestEdge.start(config(0), dir)) {
            load(edge, 0, 50);
            edge.node().identityState().put(ORG, ecid(7), "consent", "{\"marker\":\"consent-of-p7\"}");
            edge.node().identityState().put(ORG, ecid(8), "consent", "{\"marker\":\"consent-of-p8\"}");
            String jobId = submit(edge, "delete", "Email_LC_SHA256", email(7));
            JsonNode done = await(edge, jobId, PrivacyJobsTest::reclaimed);
            assertEquals(EVENTS_EACH, done.get("events").asInt());

            Map<String, Integer> ids = exportedIds(dir);
            assertEquals(50 * EVENTS_EACH - EVENTS_EACH, ids.size());
            assertTrue(ids.values().stream().allMatch(n -> n == 1));
            assertTrue(ids.keySet().stream().noneMatch(id -> id.startsWith("ev-7-")));
            assertTrue(edge.node().identityState().get(ORG, ecid(7), "consent").isEmpty());
            assertTrue(edge.node().identityState().get(ORG, ecid(8), "consent").isPresent());

            // The writer keeps appending to the new segment after the forced roll.
            load(edge, 50, 52);
            assertEquals(52 * EVENTS_EACH - EVENTS_EACH, exportedIds(dir).size());

            String raw = rawBytes(dir);
            for (String gone : List.of(marker(7, 0), marker(7, 1), ecid(7), email(7), "ev-7-", "consent-of-p7")) {
                assertFalse(raw.contains(gone), gone + " is still in the data directory's bytes");
            }
            for (String kept : List.of(marker(8, 1), ecid(8), email(8), "ev-8-3", "consent-of-p8")) {
                assertTrue(raw.contains(kept), kept + " should still be stored");
            }

            String metrics = edge.send(HttpRequest.newBuilder(edge.uri("/metrics")).GET()).body();
            assertEquals(1.0, metric(metrics, "xdmedge_privacy_jobs{action=\"delete\",status=\"complete\"}"), metrics);
            assertEquals(0.0, metric(metrics, "xdmedge_privacy_jobs{action=\"delete\",status=\"processing\"}"));
            assertEquals(EVENTS_EACH, metric(metrics, "xdmedge_privacy_events_deleted_total"));
            assertEquals(1.0, metric(metrics, "xdmedge_privacy_job_duration_seconds_count{action=\"delete\"}"));
            assertTrue(metric(metrics, "xdmedge_privacy_rewrite_reclaimed_bytes_total") > 0, metrics);
            assertTrue(metric(metrics, "xdmedge_privacy_rewrite_segments_total") >= 1, metrics);
        }
    }

    @Test
    void packedFramesAreRewrittenWithoutTheDeletedEvents() throws Exception {
        String lz4 = config(0).replace("storage: { compression: none }", "storage: { compression: lz4 }");
        try (TestEdge edge = TestEdge.start(lz4, dir.resolve("data"))) {
            load(edge, 0, 30);
            await(edge, submit(edge, "delete", "ECID", ecid(12)), PrivacyJobsTest::reclaimed);
            load(edge, 30, 31);
        }
        // Without the deleted-events list the reader would show whatever the frames still hold:
        // a copy without it shows the blanked records are all that is left of them.
        Path copy = dir.resolve("copy");
        try (Stream<Path> files = Files.walk(dir.resolve("data"))) {
            for (Path f : files.toList()) {
                Path to = copy.resolve(dir.resolve("data").relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(to);
                } else if (!f.toString().contains("deleted") && !f.getFileName().toString().equals("lock")) {
                    Files.copy(f, to);
                }
            }
        }
        try (Stream<Path> lists = Files.walk(copy)) {
            assertTrue(lists.noneMatch(f -> f.toString().endsWith(".seqs")));
        }
        Map<String, Integer> ids = exportedIds(copy);
        assertEquals(30 * EVENTS_EACH, ids.size());
        assertTrue(ids.keySet().stream().noneMatch(id -> id.startsWith("ev-12-")));
        for (JsonNode line : TestEdge.exported(copy, null)) {
            assertFalse(line.toString().contains(ecid(12)), line.toString());
        }
    }

    @Test
    void deleteByAnFpidSeededEcidRemovesThatVisitorsEvents() throws Exception {
        String yaml = config(0).replace("organizations:\n", "identity: { fpidSecret: privacy-test-fpid-secret-1 }\norganizations:\n");
        try (TestEdge edge = TestEdge.start(yaml, dir)) {
            load(edge, 0, 5);
            for (String fpid : List.of("79bf8e83-f708-414b-b1ed-5789ff33bf0b", "871e8460-a329-4e96-a5b6-ff359fb0afb9")) {
                for (int i = 0; i < 3; i++) {
                    // interact: browser traffic, whose identity the edge resolves (an FPID seeds the ECID).
                    HttpResponse<String> res = edge.postJson("/ee/v1/interact?configId=ds", """
                            {"events":[{"xdm":{"_id":"fp-%s-%d","eventType":"t",
                              "identityMap":{"FPID":[{"id":"%s","primary":true}]}}}]}""".formatted(fpid, i, fpid));
                    assertEquals(200, res.statusCode(), res.body());
                }
            }
            // The edge seeded an ECID from the FPID and wrote it into each event's identity map.
            String seeded = null;
            for (JsonNode line : TestEdge.exported(dir, null)) {
                if (line.get("eventId").asText().startsWith("fp-79bf8e83")) {
                    seeded = line.get("event").get("xdm").get("identityMap").get("ECID").get(0).get("id").asText();
                }
            }
            assertTrue(seeded != null && seeded.matches("[0-9]{38}"), String.valueOf(seeded));
            JsonNode done = await(edge, submit(edge, "delete", "ECID", seeded), PrivacyJobsTest::reclaimed);
            assertEquals(3, done.get("events").asInt());
            Map<String, Integer> ids = exportedIds(dir);
            assertTrue(ids.keySet().stream().noneMatch(id -> id.startsWith("fp-79bf8e83")), ids.toString());
            assertEquals(3, ids.keySet().stream().filter(id -> id.startsWith("fp-871e8460")).count());
            assertEquals(5 * EVENTS_EACH + 3, ids.size());
            assertFalse(rawBytes(dir).contains("79bf8e83-f708-414b-b1ed-5789ff33bf0b"));
        }
    }

    @Test
    void deleteByEcidSurvivesARestartAndStaysDeleted() throws Exception {
        String jobId;
        try (TestEdge edge = TestEdge.start(config(60), dir)) {
            load(edge, 0, 20);
            jobId = submit(edge, "delete", "ECID", ecid(3));
            JsonNode done = await(edge, jobId, PrivacyJobsTest::complete);
            assertEquals(EVENTS_EACH, done.get("events").asInt());
            assertFalse(done.get("reclaimed").asBoolean()); // reclaimMinutes 60: not yet rewritten
            assertTrue(exportedIds(dir).keySet().stream().noneMatch(id -> id.startsWith("ev-3-")));
        }
        try (TestEdge edge = TestEdge.start(config(0), dir)) {
            JsonNode done = await(edge, jobId, PrivacyJobsTest::reclaimed);
            assertEquals(EVENTS_EACH, done.get("events").asInt());
            Map<String, Integer> ids = exportedIds(dir);
            assertEquals(19 * EVENTS_EACH, ids.size());
            assertTrue(ids.keySet().stream().noneMatch(id -> id.startsWith("ev-3-")));
            assertFalse(rawBytes(dir).contains(marker(3, 5)));
            load(edge, 20, 21);
            assertEquals(20 * EVENTS_EACH, exportedIds(dir).size());
        }
    }

    @Test
    void deleteUnderLoadLosesNoOtherAcknowledgedEvent() throws Exception {
        try (TestEdge edge = TestEdge.start(config(0), dir)) {
            load(edge, 0, 40);
            AtomicBoolean stop = new AtomicBoolean();
            List<Throwable> failures = new ArrayList<>();
            int[] loaded = {40};
            Thread writer = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        load(edge, loaded[0], loaded[0] + 1);
                        loaded[0]++;
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            writer.start();
            String a = submit(edge, "delete", "ECID", ecid(5));
            String b = submit(edge, "delete", "Email_LC_SHA256", email(30));
            await(edge, a, PrivacyJobsTest::reclaimed);
            await(edge, b, PrivacyJobsTest::reclaimed);
            stop.set(true);
            writer.join();
            assertTrue(failures.isEmpty(), failures.toString());
            Map<String, Integer> ids = exportedIds(dir);
            assertEquals((loaded[0] - 2) * EVENTS_EACH, ids.size());
            assertTrue(ids.values().stream().allMatch(n -> n == 1), "every event exported once");
            for (int p = 0; p < loaded[0]; p++) {
                for (int i = 0; i < EVENTS_EACH; i++) {
                    assertEquals(p != 5 && p != 30, ids.containsKey("ev-" + p + "-" + i), "ev-" + p + "-" + i);
                }
            }
        }
    }

    @Test
    void unauthorisedAndMalformedRequestsGetProblemsAndChangeNothing() throws Exception {
        try (TestEdge edge = TestEdge.start(config(0), dir)) {
            load(edge, 0, 5);
            String body = job("delete", "ECID", ecid(1));
            HttpResponse<String> none = edge.postJson("/privacy/jobs", body);
            assertEquals(401, none.statusCode());
            assertTrue(none.headers().firstValue("content-type").orElse("").startsWith("application/problem+json"));
            assertTrue(none.body().contains("EXEG-0500-401"), none.body());
            HttpResponse<String> wrong = edge.send(HttpRequest.newBuilder(edge.uri("/privacy/jobs"))
                    .header("authorization", "Bearer not-the-token").header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)));
            assertEquals(403, wrong.statusCode());
            assertTrue(wrong.body().contains("EXEG-0403-403"), wrong.body());
            Map<String, String> malformed = Map.of(
                    "not json", "body",
                    job("erase", "ECID", ecid(1)), "users[0].action",
                    job("delete", "ECID", ecid(1)).replace("imsOrgID", "sandbox"), "companyContexts",
                    job("delete", "ECID", ecid(1)).replace("\"regulation\":\"gdpr\"", "\"regulation\":7"), "regulation",
                    job("delete", "", ecid(1)), "users[0].userIDs[0].namespace",
                    job("delete", "ECID", ""), "users[0].userIDs[0].value");
            for (var m : malformed.entrySet()) {
                HttpResponse<String> res = admin(edge, "POST", "/privacy/jobs", m.getKey());
                assertEquals(400, res.statusCode(), m.getKey());
                assertTrue(res.body().contains("\"path\":\"" + m.getValue() + "\""), res.body());
            }
            assertEquals(404, admin(edge, "GET", "/privacy/jobs/no-such-job", null).statusCode());
            try (Stream<Path> jobs = Files.list(dir.resolve("privacy/jobs"))) {
                assertEquals(0, jobs.count());
            }
            assertEquals(5 * EVENTS_EACH, exportedIds(dir).size());
        }
    }

    record Cli(int code, String out, String err) {}

    static Cli cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cli = XdmEdgeCommand.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Cli(code, out.toString(), err.toString());
    }

    @Test
    void theCommandLineAccessesAndDeletesOnAStoppedEdge() throws Exception {
        Path data = dir.resolve("data");
        Path yaml = Files.writeString(dir.resolve("edge.yaml"), config(60));
        try (TestEdge edge = TestEdge.start(config(60), data)) {
            load(edge, 0, 30);
            Cli busy = cli("privacy", "access", "--data", data.toString(), "--config", yaml.toString(), "--org", ORG,
                    "--namespace", "ECID", "--id", ecid(4));
            assertEquals(1, busy.err().lines().count(), busy.err()); // the running edge holds the directory
            assertTrue(busy.err().startsWith("xdm-edge: "), busy.err());
        }
        Cli deleted = cli("privacy", "delete", "--data", data.toString(), "--config", yaml.toString(), "--org", ORG,
                "--namespace", "Email_LC_SHA256", "--id", email(4));
        assertEquals(0, deleted.code(), deleted.err());
        JsonNode summary = TestEdge.json(deleted.out());
        assertEquals(EVENTS_EACH, summary.get("events").asInt());
        assertTrue(summary.get("reclaimed").asBoolean());
        Cli gone = cli("privacy", "access", "--data", data.toString(), "--config", yaml.toString(), "--org", ORG,
                "--namespace", "ECID", "--id", ecid(4));
        assertEquals(0, gone.code(), gone.err());
        assertEquals("", gone.out());
        Cli kept = cli("privacy", "access", "--data", data.toString(), "--config", yaml.toString(), "--org", ORG,
                "--namespace", "ECID", "--id", ecid(5));
        assertEquals(EVENTS_EACH, kept.out().lines().count());
        String raw = rawBytes(data);
        assertFalse(raw.contains(ecid(4)) || raw.contains(marker(4, 3)) || raw.contains(email(4)));
        // The edge opens the rewritten log (its newest segment included) and goes on numbering.
        try (TestEdge edge = TestEdge.start(config(60), data)) {
            load(edge, 30, 31);
            Map<String, Integer> ids = exportedIds(data);
            assertEquals(30 * EVENTS_EACH, ids.size());
            assertTrue(ids.containsKey("ev-30-9") && !ids.containsKey("ev-4-0"));
        }
    }

    @Test
    void theConfigurationTakesDigestsNotTokens() {
        String plain = TestEdge.BASIC_CONFIG + "privacy: { adminTokens: [" + TOKEN + "], kafkaDeletionTopic: deletions }\n";
        var e = Assertions.assertThrows(ConfigException.class,
                () -> new ConfigLoader().parse(plain, "test"));
        assertTrue(e.getMessage().contains("privacy.adminTokens[0]"), e.getMessage());
        assertTrue(e.getMessage().contains("privacy.kafkaDeletionTopic"), e.getMessage());
    }

    @Test
    void theApiIsOffWithoutTokens() throws Exception {
        try (TestEdge edge = TestEdge.start(TestEdge.BASIC_CONFIG, dir)) {
            HttpResponse<String> res = admin(edge, "POST", "/privacy/jobs", job("delete", "ECID", ecid(1)));
            assertEquals(404, res.statusCode(), res.body());
            assertFalse(Files.exists(dir.resolve("privacy")));
        }
    }
}
