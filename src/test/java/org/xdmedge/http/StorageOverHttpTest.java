package org.xdmedge.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.xdmedge.cli.XdmEdgeCommand;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.outlet.WriteResult;
import org.xdmedge.store.log.EventLogStore;
import org.xdmedge.store.log.FramePacking;
import org.xdmedge.testing.TestEdge;
import picocli.CommandLine;

class StorageOverHttpTest {
    @TempDir
    Path dir;

    @Test
    void aRestartKeepsEverythingAndExportPrintsJsonLines() throws Exception {
        try (TestEdge edge = TestEdge.start(dir)) {
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", CollectEndpointTest.event("before-1", "u")).statusCode()).isEqualTo(202);
        }
        try (TestEdge edge = TestEdge.start(dir)) {
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", CollectEndpointTest.event("after-1", "u")).statusCode()).isEqualTo(202);
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", CollectEndpointTest.event("before-1", "u")).statusCode()).isEqualTo(202);
        }
        // No server runs now: export reads the file itself.
        List<JsonNode> lines = export("export", "--data", dir.toString());
        assertThat(lines).extracting(l -> l.get("eventId").asText()).containsExactly("before-1", "after-1");
        JsonNode line = lines.get(0);
        for (String field : List.of("requestId", "datastreamId", "dataset", "receivedAt", "eventId", "primaryIdentity", "event")) {
            assertThat(line.has(field)).as(field).isTrue();
        }
        assertThat(line.get("primaryIdentity").get("namespace").asText()).isEqualTo("CRMID");
        assertThat(line.get("primaryIdentity").get("id").asText()).isEqualTo("u");
        assertThat(line.get("event").get("xdm").get("_id").asText()).isEqualTo("before-1");
        assertThat(export("export", "--data", dir.toString(), "--dataset", "web-events")).hasSize(2);
        assertThat(export("export", "--data", dir.toString(), "--dataset", "nothing")).isEmpty();
    }

    @Test
    void framesArePackedWithLz4ByDefaultWithZstdOrPlainAsConfiguredAndAStoreKeepsEverythingAcrossTheSwitches()
            throws Exception {
        StringBuilder batch = new StringBuilder("{\"events\":[");
        for (int i = 0; i < 50; i++) {
            batch.append(i == 0 ? "" : ",").append(CollectEndpointTest.eventObject("packed-" + i, "u" + i));
        }
        batch.append("]}");
        try (TestEdge edge = TestEdge.start(dir)) {
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", batch.toString()).statusCode()).isEqualTo(202);
        }
        assertThat(frameKinds()).containsExactly("FRM3");
        try (TestEdge edge = TestEdge.start(dir)) {
            String metrics = edge.get("/metrics").body();
            assertThat(metric(metrics, "xdmedge_store_frames_written_bytes")).as("a new process counts from zero").isZero();
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", batch.toString().replace("packed-", "counted-"))
                    .statusCode()).isEqualTo(202);
            metrics = edge.get("/metrics").body();
            double written = metric(metrics, "xdmedge_store_frames_written_bytes");
            double plain = metric(metrics, "xdmedge_store_frames_plain_bytes");
            assertThat(written).as("packed %s of %s", written, plain).isPositive().isLessThan(plain / 3);
            assertThat(plain).as("50 events of ~200 bytes, plainly").isGreaterThan(50 * 150);
        }
        for (String compression : new String[] {"zstd", "none"}) {
            String yaml = TestEdge.BASIC_CONFIG + "storage: { compression: " + compression + " }\n";
            try (TestEdge edge = TestEdge.start(yaml, dir)) {
                assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", batch.toString().replace("packed-", compression + "-"))
                        .statusCode()).isEqualTo(202);
                assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", batch.toString()).statusCode())
                        .as("a retry of packed events is still known").isEqualTo(202);
            }
        }
        assertThat(frameKinds()).containsExactly("FRM3", "FRM3", "FRM2", "FRM1");
        List<JsonNode> lines = export("export", "--data", dir.toString());
        assertThat(lines).hasSize(200);
        assertThat(lines.get(0).get("event").get("xdm").get("_id").asText()).isEqualTo("packed-0");
        assertThat(lines.get(50).get("event").get("xdm").get("_id").asText()).isEqualTo("counted-0");
        assertThat(lines.get(100).get("event").get("xdm").get("_id").asText()).isEqualTo("zstd-0");
        assertThat(lines.get(199).get("event").get("xdm").get("_id").asText()).isEqualTo("none-49");
    }

    @Test
    void withZerosAheadAndTheHandOverSwitchedOffEveryCommitGrowsTheSegmentByItsOwnBlocks() throws Exception {
        try (TestEdge edge = TestEdge.start(dir)) {
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", CollectEndpointTest.event("ahead-1", "u"))
                    .statusCode()).isEqualTo(202);
        }
        assertThat(Files.size(onlySegment(dir))).as("the default: zeros written ahead of a small frame")
                .isGreaterThanOrEqualTo(256 << 10);
        Path plain = dir.resolve("plain");
        String yaml = TestEdge.BASIC_CONFIG + "storage: { zerosAhead: false, writerHandOver: off }\n";
        try (TestEdge edge = TestEdge.start(yaml, plain)) {
            for (int i = 1; i <= 3; i++) {
                assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", CollectEndpointTest.event("plain-" + i, "u"))
                        .statusCode()).isEqualTo(202);
            }
        }
        assertThat(Files.size(onlySegment(plain))).as("three small frames, no zeros ahead").isLessThan(64 << 10);
        assertThat(export("export", "--data", plain.toString())).extracting(l -> l.get("eventId").asText())
                .containsExactly("plain-1", "plain-2", "plain-3");
    }

    private static Path onlySegment(Path data) throws Exception {
        try (var files = Files.list(data.resolve("events"))) {
            List<Path> segments = files.filter(f -> f.toString().endsWith(".log")).toList();
            assertThat(segments).hasSize(1);
            return segments.get(0);
        }
    }

    /** The magic of each frame of the only event segment, in order. */
    private List<String> frameKinds() throws Exception {
        List<Path> segments;
        try (var files = Files.list(dir.resolve("events"))) {
            segments = files.filter(f -> f.toString().endsWith(".log")).toList();
        }
        assertThat(segments).hasSize(1);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(segments.get(0)));
        List<String> kinds = new ArrayList<>();
        for (int at = 16; at + 12 <= b.limit() && b.get(at) == 'F'; at = (at + 12 + b.getInt(at + 4) + 511) / 512 * 512) {
            byte[] magic = new byte[4];
            b.get(at, magic);
            kinds.add(new String(magic, StandardCharsets.US_ASCII));
        }
        return kinds;
    }

    @Test
    void exportWorksBesideARunningServer() throws Exception {
        try (TestEdge edge = TestEdge.start(dir)) {
            edge.postJson("/ee/v2/collect?datastreamId=ds", CollectEndpointTest.event("live", "u"));
            assertThat(export("export", "--data", dir.toString())).hasSize(1);
        }
    }

    @Test
    void healthAndReadiness() throws Exception {
        try (TestEdge edge = TestEdge.start(dir)) {
            assertThat(edge.get("/health").statusCode()).isEqualTo(200);
            assertThat(edge.get("/ready").statusCode()).isEqualTo(200);
            assertThat(edge.get("/metrics").body()).contains("xdmedge_store_queue_depth");
        }
    }

    @Test
    void onlyIdsThatARetryCanCarryAgainTakeASlotInTheIdIndex() throws Exception {
        String withoutIds = "{\"events\":[{\"xdm\":{\"identityMap\":{\"CRMID\":[{\"id\":\"c1\",\"primary\":true}]}}},"
                + "{\"xdm\":{\"identityMap\":{\"CRMID\":[{\"id\":\"c2\",\"primary\":true}]}}}]}";
        try (TestEdge edge = TestEdge.start(dir)) {
            // No _id and no caller requestId: ids the edge mints for this request alone.
            for (int i = 0; i < 3; i++) {
                assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", withoutIds).statusCode()).isEqualTo(202);
            }
            assertThat(metric(edge.get("/metrics").body(), "xdmedge_store_ids")).isZero();
            // The client's own _id, and ids derived from a caller requestId, are claimed: their retries are found.
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", CollectEndpointTest.event("own-id", "u")).statusCode())
                    .isEqualTo(202);
            for (int i = 0; i < 2; i++) {
                assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds&requestId=named-1", withoutIds).statusCode())
                        .isEqualTo(202);
            }
            assertThat(metric(edge.get("/metrics").body(), "xdmedge_store_ids")).isEqualTo(3);
            assertThat(edge.exported()).hasSize(6 + 1 + 2);
        }
    }

    @Test
    void theStoreMetricsTimeEachCommitAndCountTheIndexedIdsAndTheirTables() throws Exception {
        try (TestEdge edge = TestEdge.start(dir)) {
            for (int i = 0; i < 3; i++) {
                assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", CollectEndpointTest.event("timed-" + i, "u"))
                        .statusCode()).isEqualTo(202);
            }
            String metrics = edge.get("/metrics").body();
            double commits = metric(metrics, "xdmedge_store_commits");
            assertThat(commits).isBetween(1.0, 3.0);
            assertThat(metric(metrics, "xdmedge_store_commit_write_seconds_count")).isEqualTo(commits);
            // Each frame was written and forced to a real file: that takes time, if little.
            assertThat(metric(metrics, "xdmedge_store_commit_write_seconds_sum")).isPositive().isLessThan(30.0);
            // Buckets, so a scrape shows the disk's stalls and not only the mean: every commit is in +Inf,
            // none above a second's bucket here, and the buckets only grow with their bounds.
            assertThat(metric(metrics, "xdmedge_store_commit_write_seconds_bucket{le=\"+Inf\"}")).isEqualTo(commits);
            double previous = 0;
            for (String bound : new String[] {"0.001", "0.002", "0.005", "0.01", "0.02", "0.05", "0.1", "0.25", "0.5", "1.0"}) {
                double count = metric(metrics, "xdmedge_store_commit_write_seconds_bucket{le=\"" + bound + "\"}");
                assertThat(count).as("bucket le=%s", bound).isBetween(previous, commits);
                previous = count;
            }
            // The request timers have buckets too: a p99 can be read from a scrape. (The loop records
            // a request just after answering it, so the last one may not be in this scrape yet.)
            double answered = metric(metrics, "xdmedge_requests_seconds_bucket{action=\"v2_collect\",status=\"202\",le=\"+Inf\"}");
            assertThat(answered).isBetween(2.0, 3.0);
            assertThat(metric(metrics, "xdmedge_requests_seconds_bucket{action=\"v2_collect\",status=\"202\",le=\"0.01\"}"))
                    .isBetween(0.0, answered);
            assertThat(metric(metrics, "xdmedge_store_ids")).isEqualTo(3.0);
            // The first table: a 4 KiB header and 2^16 slots of 32 bytes.
            assertThat(metric(metrics, "xdmedge_store_id_tables_bytes")).isEqualTo(4096.0 + (32L << 16));
            assertThat(metric(metrics, "xdmedge_store_id_table_count")).as("the hot one alone").isEqualTo(1.0);
            assertThat(metric(metrics, "xdmedge_store_id_merges")).isZero();
            assertThat(metric(metrics, "xdmedge_store_retention_segments_deleted")).as("retention is off by default").isZero();
            assertThat(metric(metrics, "xdmedge_store_retention_deleted_bytes")).isZero();
            assertThat(metric(metrics, "xdmedge_store_retention_failures")).isZero();
        }
    }

    @Test
    void retentionFromTheConfigurationDeletesTheOldSegmentsBeyondTheNewestTwo() throws Exception {
        // Some 64 MiB segments of events (the store's own size), then made two days old; written
        // plain, as packed frames of these like events would fill no second segment.
        byte[] json = ("{\"xdm\":{\"pad\":\"" + "x".repeat(1500) + "\"}}").getBytes(StandardCharsets.UTF_8);
        try (EventLogStore store = EventLogStore.open(dir,
                EventLogStore.Options.DEFAULTS.packing(FramePacking.NONE))) {
            ArrayDeque<CompletableFuture<WriteResult>> inFlight = new ArrayDeque<>();
            for (int r = 0; r < 3200; r++) {
                List<StoredEvent> events = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    events.add(new StoredEvent("req-" + r, "ds", "web-events", System.currentTimeMillis(),
                            "old-" + r + "-" + i, "ECID", "e", json));
                }
                inFlight.add(store.write(events).toCompletableFuture());
                if (inFlight.size() == 64) {
                    assertThat(inFlight.poll().get(30, TimeUnit.SECONDS).stored()).isEqualTo(50);
                }
            }
            for (var f : inFlight) {
                assertThat(f.get(30, TimeUnit.SECONDS).stored()).isEqualTo(50);
            }
        }
        Path events = dir.resolve("events");
        List<Path> segments;
        try (var files = Files.list(events)) {
            segments = files.sorted().toList();
        }
        assertThat(segments).hasSizeGreaterThanOrEqualTo(3);
        for (Path segment : segments) {
            Files.setLastModifiedTime(segment, FileTime.fromMillis(
                    System.currentTimeMillis() - Duration.ofDays(2).toMillis()));
        }
        String yaml = TestEdge.BASIC_CONFIG + "storage: { retention: { maxAgeHours: 24 } }\n";
        try (TestEdge edge = TestEdge.start(yaml, dir)) {
            double deleted = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (deleted < segments.size() - 2 && System.nanoTime() < deadline) {
                deleted = metric(edge.get("/metrics").body(), "xdmedge_store_retention_segments_deleted");
                Thread.sleep(50);
            }
            assertThat(deleted).as("all but the newest two, at start").isEqualTo(segments.size() - 2.0);
            try (var files = Files.list(events)) {
                assertThat(files.sorted().toList()).containsExactlyElementsOf(segments.subList(segments.size() - 2, segments.size()));
            }
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", CollectEndpointTest.event("after-retention", "u"))
                    .statusCode()).isEqualTo(202);
        }
    }

    @Test
    void belowTheConfiguredFreeSpaceWritesGet503WithRetryAfterAndTheNodeIsNotReady() throws Exception {
        // A floor no test disk reaches (1 PiB): the disk is "nearly full" from the first look on.
        String yaml = TestEdge.BASIC_CONFIG + "storage: { minFreeBytes: 1125899906842624, retryAfterSeconds: 7 }\n";
        try (TestEdge edge = TestEdge.start(yaml, dir)) {
            int ready = 0;
            for (int i = 0; i < 100 && (ready = edge.get("/ready").statusCode()) != 503; i++) {
                Thread.sleep(50);
            }
            assertThat(ready).isEqualTo(503);
            var refused = edge.postJson("/ee/v2/collect?datastreamId=ds", CollectEndpointTest.event("no-room", "u"));
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("retry-after")).hasValue("7");
            assertThat(refused.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
            assertThat(TestEdge.json(refused.body()).get("type").asText()).endsWith("EXEG-0000-503");
            assertThat(TestEdge.json(refused.body()).get("detail").asText()).contains("MiB free");
            String metrics = edge.get("/metrics").body();
            assertThat(metric(metrics, "xdmedge_store_disk_free_bytes")).isPositive().isLessThan(1125899906842624.0);
            assertThat(metric(metrics, "xdmedge_store_events_stored")).isZero();
        }
        try (TestEdge edge = TestEdge.start(dir)) { // the default floor: 64 MiB
            edge.awaitReady(Duration.ofSeconds(10));
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", CollectEndpointTest.event("room", "u")).statusCode())
                    .isEqualTo(202);
        }
    }

    private static double metric(String exposition, String name) {
        return exposition.lines().filter(l -> l.startsWith(name + " ") || !name.endsWith("}") && l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst().orElseThrow(() -> new AssertionError(name + " is not exposed"));
    }

    @Test
    void aFloodOfRefusalsLogsAtMostTheBudgetsLinesWhileTheMetricsCountEveryOne() throws Exception {
        String yaml = TestEdge.BASIC_CONFIG + """
                storage: { queueCapacity: 2, maxRequestsPerCommit: 1, retryAfterSeconds: 3 }
                """;
        ch.qos.logback.classic.Logger handlerLog = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(EdgeHandler.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines = new ch.qos.logback.core.read.ListAppender<>();
        lines.start();
        handlerLog.addAppender(lines);
        try (TestEdge edge = TestEdge.start(yaml, dir)) {
            edge.postJson("/ee/v2/collect?datastreamId=ds", CollectEndpointTest.event("warm-up", "u"));
            int refused = 0;
            long started = System.nanoTime();
            try (AutoCloseable paused = edge.node().store().pauseWriter()) {
                List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
                for (int i = 0; i < 80; i++) {
                    answers.add(edge.postJsonAsync("/ee/v2/collect?datastreamId=ds", CollectEndpointTest.event("f-" + i, "u")));
                }
                // Everything past the held group and the two queued is refused at once (bounded wait).
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (answers.stream().filter(CompletableFuture::isDone).count() < answers.size() - 3
                        && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                for (CompletableFuture<HttpResponse<String>> answer : answers) {
                    if (answer.isDone() && answer.get().statusCode() == 503) {
                        refused++;
                    }
                }
            }
            long windows = 1 + (System.nanoTime() - started) / 10_000_000_000L;
            long logged;
            synchronized (lines) {
                logged = lines.list.stream().filter(e -> e.getFormattedMessage().contains("answered EXEG-0000-503")).count();
            }
            assertThat(refused).as("refusals").isGreaterThanOrEqualTo(70);
            assertThat(logged).as("503 lines logged for %d refusals in %d window(s) of 10 s", refused, windows)
                    .isPositive().isLessThanOrEqualTo(20 * windows);
            String metrics = edge.get("/metrics").body();
            assertThat(metrics).contains("xdmedge_requests_seconds_count{action=\"v2_collect\",status=\"503\"} " + refused + "\n");
        } finally {
            handlerLog.detachAppender(lines);
        }
    }

    @Test
    void aFullWriterQueueAnswers503WithRetryAfterAndEveryAcknowledgedEventIsStored() throws Exception {
        String yaml = TestEdge.BASIC_CONFIG + """
                storage: { queueCapacity: 2, maxRequestsPerCommit: 1, retryAfterSeconds: 3 }
                """;
        try (TestEdge edge = TestEdge.start(yaml, dir)) {
            edge.postJson("/ee/v2/collect?datastreamId=ds", CollectEndpointTest.event("warm-up", "u"));
            List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
            // The writer is held, as by a stalled disk: its queue fills up.
            try (AutoCloseable paused = edge.node().store().pauseWriter()) {
                for (int i = 0; i < 12; i++) {
                    answers.add(edge.postJsonAsync("/ee/v2/collect?datastreamId=ds", CollectEndpointTest.event("e-" + i, "u")));
                }
                // Requests beyond the one being written and the two queued are refused at once.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(4);
                while (answers.stream().noneMatch(CompletableFuture::isDone) && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(answers.stream().filter(CompletableFuture::isDone).count()).isGreaterThan(0);
                assertThat(edge.get("/ready").statusCode()).isEqualTo(503);
            }
            Set<String> acknowledged = new HashSet<>();
            int unavailable = 0;
            for (int i = 0; i < answers.size(); i++) {
                HttpResponse<String> res = answers.get(i).get();
                if (res.statusCode() == 202) {
                    acknowledged.add("e-" + i);
                } else {
                    assertThat(res.statusCode()).isEqualTo(503);
                    assertThat(res.headers().firstValue("retry-after")).contains("3");
                    assertThat(TestEdge.json(res.body()).get("type").asText()).endsWith("EXEG-0000-503");
                    unavailable++;
                }
            }
            assertThat(unavailable).isGreaterThan(0);
            Set<String> stored = new HashSet<>();
            edge.exported().forEach(l -> stored.add(l.get("eventId").asText()));
            stored.remove("warm-up");
            assertThat(stored).isEqualTo(acknowledged);
            assertThat(edge.get("/ready").statusCode()).isEqualTo(200);
        }
    }

    private static List<JsonNode> export(String... args) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            exit = new CommandLine(new XdmEdgeCommand()).execute(args);
        } finally {
            System.setOut(original);
        }
        assertThat(exit).isZero();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : captured.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                lines.add(TestEdge.json(line));
            }
        }
        return lines;
    }
}
