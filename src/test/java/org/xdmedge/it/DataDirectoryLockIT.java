package org.xdmedge.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.EdgeProcess;
import org.xdmedge.testing.TestEdge;

/** One serving process per data directory: a second {@code serve} on it stops at once and says why. */
class DataDirectoryLockIT {
    @TempDir
    Path dir;

    private final HttpClient client = HttpClient.newHttpClient();

    @Test
    void aSecondServeOnTheSameDataDirectoryExitsNamingItWhileExportStillWorks() throws Exception {
        Path data = dir.resolve("data");
        EdgeProcess first = EdgeProcess.start(dir, data, TestEdge.BASIC_CONFIG);
        try {
            assertThat(collect(first, "before-1")).isEqualTo(202);

            // Once with --data, once on the default ./data of the same working directory.
            for (List<String> dataOption : List.of(List.of("--data", data.toString()), List.<String>of())) {
                List<String> args = new ArrayList<>(List.of("serve", "--host", "127.0.0.1", "--port", "0",
                        "--config", dir.resolve("edge.yaml").toString()));
                args.addAll(dataOption);
                EdgeProcess.Run second = EdgeProcess.run(dir, args, 30);

                assertThat(second.exitCode()).as(second.output()).isEqualTo(1);
                assertThat(second.output().lines().toList()).as("one line, no stack trace").singleElement().satisfies(line -> {
                    assertThat(line).startsWith("xdm-edge: ").contains(data.toRealPath().toString())
                            .contains("in use").contains("pid " + first.pid());
                });
            }

            assertThat(collect(first, "after-1")).as("the first edge keeps serving").isEqualTo(202);
            // A reader takes no lock: export works beside the running edge.
            assertThat(EdgeProcess.export(data)).extracting(e -> e.path("event").path("xdm").path("_id").asText())
                    .contains("before-1", "after-1");
            assertThat(first.terminate(60)).isZero();
        } finally {
            first.close();
        }

        // The lock goes with its process: the directory serves again.
        EdgeProcess again = EdgeProcess.start(dir, data, TestEdge.BASIC_CONFIG);
        try {
            assertThat(collect(again, "later-1")).isEqualTo(202);
        } finally {
            again.close();
        }
    }

    @Test
    void aKilledEdgeLeavesNoLockBehind() throws Exception {
        Path data = dir.resolve("data");
        EdgeProcess first = EdgeProcess.start(dir, data, TestEdge.BASIC_CONFIG);
        first.kill();
        try (EdgeProcess second = EdgeProcess.start(dir, data, TestEdge.BASIC_CONFIG)) {
            assertThat(collect(second, "after-kill")).isEqualTo(202);
        }
    }

    private int collect(EdgeProcess edge, String id) throws Exception {
        String body = "{\"events\":[{\"xdm\":{\"_id\":\"" + id + "\",\"eventType\":\"test\","
                + "\"identityMap\":{\"CRMID\":[{\"id\":\"u\",\"primary\":true}]}}}]}";
        return client.send(HttpRequest.newBuilder(URI.create(edge.baseUrl() + "/ee/v2/collect?datastreamId=ds"))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
