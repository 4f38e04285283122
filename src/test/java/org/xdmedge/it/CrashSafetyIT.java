package org.xdmedge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.EdgeProcess;
import org.xdmedge.testing.LoadClient;
import org.xdmedge.testing.TestEdge;

/**
 * SIGKILL mid-load, several rounds on one data directory: every event that got a 2xx is exported
 * exactly once, including after clients retried their unanswered requests, and resent answered
 * ones, with the same ids. The id index's hot table is kept at 2^10 slots, so it is sealed every
 * 512 claims and sealed tables are merged all the while: the kills land among seals and merges.
 */
class CrashSafetyIT {
    private static final int ROUNDS = 3;

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedEventSurvivesSigkillExactlyOnce() throws Exception {
        Path data = dir.resolve("data");
        Set<String> acked = new HashSet<>();
        List<LoadClient.Batch> toRetry = List.of();
        for (int round = 0; round < ROUNDS; round++) {
            // Odd rounds on a JVM that sees one CPU: the writer yields and the event loop hands it the CPU
            // (EventLogStore's one-CPU path, otherwise run only by the pinned bench).
            List<String> jvmOptions = new ArrayList<>(List.of("-Dxdmedge.idsHotSlotBits=10"));
            if (round % 2 == 1) {
                jvmOptions.add("-XX:ActiveProcessorCount=1");
            }
            EdgeProcess edge = EdgeProcess.start(dir.resolve("round-" + round), data, TestEdge.BASIC_CONFIG, jvmOptions);
            LoadClient load = new LoadClient(edge.baseUrl(), 10, "crash" + round);
            try {
                // Clients retry what got no answer before the crash, with the same event ids.
                for (LoadClient.Batch batch : toRetry) {
                    assertThat(load.send(batch)).as("retry after restart").isTrue();
                }
                // Others resend requests that were answered before the crash (the answer lost on its
                // way): acknowledged again, stored once all the same (checked below).
                int resent = 0;
                for (int t = 0; t < 6 && round > 0; t++) {
                    for (int n = 0; n < 10; n++) {
                        LoadClient.Batch answered = load.batch("crash" + (round - 1) + "-t" + t + "-r" + n);
                        if (acked.containsAll(answered.ids())) {
                            assertThat(load.send(answered)).as("resent after restart").isTrue();
                            resent++;
                        }
                    }
                }
                assertThat(round == 0 || resent > 0).as("some answered requests resent").isTrue();
                load.start(6, 100_000);
                load.awaitAccepted(toRetry.size() + resent + 150, 120);

                edge.kill();
                load.stop();
            } finally {
                load.stop();
                edge.close();
            }
            assertThat(Files.readString(edge.log())).as("sealed tables merged in round %d", round)
                    .contains("event-id index: merged");
            acked.addAll(load.acknowledged());
            toRetry = load.unanswered();

            Map<String, Integer> stored = GracefulShutdownIT.countByEventId(EdgeProcess.export(data));
            assertThat(acked).as("round %d", round)
                    .allSatisfy(id -> assertThat(stored.get(id)).as("copies of acknowledged event " + id).isEqualTo(1));
            assertThat(stored.values()).as("no event stored twice").allSatisfy(n -> assertThat(n).isEqualTo(1));
        }
        assertThat(acked).hasSizeGreaterThan(ROUNDS * 150 * 10 - 1);
    }
}
