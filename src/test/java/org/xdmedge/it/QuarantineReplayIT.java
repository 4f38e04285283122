package org.xdmedge.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.quality.QualityFixtures;
import org.xdmedge.quality.Quarantine;
import org.xdmedge.quality.QuarantineReplayTest;
import org.xdmedge.testing.EdgeProcess;
import org.xdmedge.testing.TestEdge;

/**
 * {@code quarantine replay} killed with SIGKILL half-way, then run again: every quarantined event
 * that passes is in its dataset exactly once, and nothing is left in quarantine.
 */
class QuarantineReplayIT {
    private static final int REQUESTS = 20;
    private static final int EVENTS_PER_REQUEST = 100;

    @TempDir
    Path dir;

    @Test
    void aReplayKilledHalfWayThenRunAgainStoresEachEventOnce() throws Exception {
        Path data = dir.resolve("data");
        Path wrong = QualityFixtures.schemaWithIntegerCampaign(dir);
        String yaml = QuarantineReplayTest.yaml(wrong).replace("eventLoops: 2", "eventLoops: 2, maxRequestBytes: 1048576");
        try (TestEdge edge = TestEdge.start(yaml, data)) {
            for (int r = 0; r < REQUESTS; r++) {
                List<String> events = new ArrayList<>();
                for (int e = 0; e < EVENTS_PER_REQUEST; e++) {
                    events.add(QualityFixtures.event("k-" + r + "-" + e, "", "{\"prop1\":\"c" + e + "\"}"));
                }
                assertThat(edge.postJson("/ee/v2/collect?datastreamId=shop", QualityFixtures.batch(events.toArray(String[]::new)))
                        .statusCode()).isEqualTo(202);
            }
        }
        int total = REQUESTS * EVENTS_PER_REQUEST;
        assertThat(current(data)).isEqualTo(total);
        Path fixed = dir.resolve("fixed.yaml");
        Files.writeString(fixed, QuarantineReplayTest.yaml(QualityFixtures.schema()));

        // The real command as its own process, paused after each commit so the kill lands between commits
        // of a run that has not finished.
        Process replay = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dxdmedge.replay.pauseMillis=300", "-jar", EdgeProcess.jar().toAbsolutePath().toString(),
                "quarantine", "replay", "--config", fixed.toString(), "--data", data.toString())
                .redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(replay.getInputStream(), StandardCharsets.UTF_8))) {
            int commits = 0;
            String line;
            while (commits < 3 && (line = out.readLine()) != null) {
                if (line.startsWith("committed:")) {
                    commits++;
                }
            }
            assertThat(commits).as("the replay committed a few batches").isEqualTo(3);
            replay.toHandle().destroyForcibly();
            assertThat(replay.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        int halfWay = TestEdge.exported(data, "web-events").size();
        assertThat(halfWay).as("stopped half-way").isGreaterThan(0).isLessThan(total);
        // export --dataset quarantine shows what is left: the replayed events are no longer there.
        EdgeProcess.Run left = EdgeProcess.run(dir, List.of("export", "--data", data.toString(), "--dataset", "quarantine"), 120);
        assertThat(left.exitCode()).isZero();
        assertThat(left.output().lines().filter(l -> l.startsWith("{\"requestId\"")).count()).isEqualTo(total - halfWay);

        EdgeProcess.Run again = EdgeProcess.run(dir, List.of("quarantine", "replay", "--config", fixed.toString(),
                "--data", data.toString()), 120);
        assertThat(again.exitCode()).as(again.output()).isZero();
        assertThat(again.output()).contains("replayed " + (total - halfWay) + " quarantined events: "
                + (total - halfWay) + " stored in their dataset, 0 already there");

        List<JsonNode> stored = TestEdge.exported(data, "web-events");
        Set<String> ids = new HashSet<>();
        stored.forEach(l -> ids.add(l.get("eventId").asText()));
        assertThat(stored).hasSize(total);
        assertThat(ids).hasSize(total);
        assertThat(current(data)).isZero();
        assertThat(EdgeProcess.run(dir, List.of("export", "--data", data.toString(), "--dataset", "quarantine"), 120).output())
                .startsWith("xdm-edge: no events in quarantine in ");

        EdgeProcess.Run third = EdgeProcess.run(dir, List.of("quarantine", "replay", "--config", fixed.toString(),
                "--data", data.toString()), 120);
        assertThat(third.output()).contains("replayed 0 quarantined events");
        assertThat(TestEdge.exported(data, "web-events")).hasSize(total);
    }

    private static int current(Path data) throws Exception {
        int[] n = {0};
        Quarantine.forEachCurrent(data, null, e -> n[0]++);
        return n[0];
    }
}
