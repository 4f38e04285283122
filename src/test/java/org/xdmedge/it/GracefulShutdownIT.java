package org.xdmedge.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xdmedge.testing.EdgeProcess;
import org.xdmedge.testing.LoadClient;
import org.xdmedge.testing.TestEdge;

/** SIGTERM under load: stop accepting, commit and answer what was accepted, exit 0. */
class GracefulShutdownIT {
    @TempDir
    Path dir;

    static String config(int graceSeconds) {
        return TestEdge.BASIC_CONFIG.replace("eventLoops: 2 }", "eventLoops: 2, shutdownGraceSeconds: " + graceSeconds + " }");
    }

    /**
     * Also on a JVM that sees one CPU: there the writer yields and the event loop hands it the CPU
     * (EventLogStore's one-CPU path), so the stop meets a writer waiting for the loop.
     */
    @ParameterizedTest(name = "one CPU: {0}")
    @ValueSource(booleans = {false, true})
    void sigtermUnderLoadAnswersEverythingAcceptedAndExitsZero(boolean oneCpu) throws Exception {
        Path data = dir.resolve("data");
        EdgeProcess edge = EdgeProcess.start(dir, data, config(30), oneCpu ? List.of("-XX:ActiveProcessorCount=1") : List.of());
        LoadClient load = new LoadClient(edge.baseUrl(), 20, "term");
        try {
            load.start(8, 100_000);
            load.awaitAccepted(200, 120);

            int exit = edge.terminate(120);
            load.stop();

            assertThat(exit).as("exit code after SIGTERM; log in " + edge.log()).isZero();
            assertThat(Files.readString(edge.log())).contains("every accepted request was committed and answered");
        } finally {
            load.stop();
            edge.close();
        }
        // A request the edge had accepted was answered, never cut off or refused; later ones found no listener.
        assertThat(load.refusedRequests()).isZero();
        Set<String> acked = load.acknowledged();
        assertThat(acked).hasSizeGreaterThanOrEqualTo(200 * 20);
        Map<String, Integer> stored = countByEventId(EdgeProcess.export(data));
        assertThat(acked).allSatisfy(id -> assertThat(stored.get(id)).as("copies of acknowledged event " + id).isEqualTo(1));
        assertThat(stored.values()).allSatisfy(n -> assertThat(n).isEqualTo(1));
    }

    @Test
    void aRequestThatNeverEndsDoesNotHoldTheStopBeyondTheGracePeriod() throws Exception {
        Path data = dir.resolve("data");
        EdgeProcess edge = EdgeProcess.start(dir, data, config(2));
        try (Socket slow = new Socket(InetAddress.getLoopbackAddress(), edge.port())) {
            OutputStream out = slow.getOutputStream();
            // Headers and half a body: the request stays in flight until the grace period forces it out.
            out.write(("POST /ee/v2/collect?datastreamId=ds HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"events\":[").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(500);

            int exit = edge.terminate(60);

            assertThat(exit).as("a stop cut short by the grace period is not clean").isEqualTo(1);
            assertThat(Files.readString(edge.log())).contains("stopped after its grace period");
        } finally {
            edge.close();
        }
    }

    static Map<String, Integer> countByEventId(List<JsonNode> lines) {
        Map<String, Integer> counts = new HashMap<>();
        for (JsonNode line : lines) {
            counts.merge(line.get("eventId").asText(), 1, Integer::sum);
        }
        return counts;
    }
}
