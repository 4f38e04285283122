package org.xdmedge.forwarding;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.EdgeProcess;

/** SIGKILL of the edge mid-delivery: after the restart nothing is skipped, and only the batch in flight comes again. */
class ForwardingCrashIT {
    private static final int BATCH = 5;

    @TempDir
    Path dir;

    @Test
    void aKilledEdgeSendsAgainOnlyTheBatchInFlight() throws Exception {
        try (FlakyReceiver receiver = new FlakyReceiver((n, ids) -> new FlakyReceiver.Answer(200, 30, null))) {
            String yaml = ForwardingTest.config(receiver.url(), BATCH);
            Path data = dir.resolve("data");
            HttpClient client = HttpClient.newHttpClient();
            List<String> expected = new ArrayList<>();
            EdgeProcess edge = EdgeProcess.start(dir.resolve("first"), data, yaml);
            try {
                for (int i = 0; i < 150; i++) {
                    String id = "p-" + i;
                    HttpResponse<String> res = client.send(HttpRequest.newBuilder(
                                    URI.create(edge.baseUrl() + "/ee/v2/collect?datastreamId=ds"))
                            .header("content-type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(ForwardingTest.event(id, "commerce.purchases",
                                    ForwardingTest.ecid(i)))).build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(res.statusCode()).isEqualTo(202);
                    expected.add(id);
                }
                ForwardingTest.await(() -> receiver.deliveredOnce().size() >= 40, Duration.ofSeconds(60), "some delivered");
            } finally {
                edge.kill();
            }
            assertThat(receiver.deliveredOnce().size()).as("killed mid-delivery").isLessThan(expected.size());

            EdgeProcess again = EdgeProcess.start(dir.resolve("second"), data, yaml);
            try {
                ForwardingTest.await(() -> receiver.deliveredOnce().size() >= expected.size(), Duration.ofSeconds(60),
                        "all delivered after the restart");
                Thread.sleep(500); // a repeat beyond the batch in flight would show by now
            } finally {
                again.terminate(30);
            }
            assertThat(receiver.deliveredOnce()).as("nothing skipped, in order").containsExactlyElementsOf(expected);
            List<String> all = receiver.deliveredAll();
            List<String> repeats = new ArrayList<>(all);
            for (String id : expected) {
                repeats.remove(id);
            }
            assertThat(repeats).as("repeats: at most the batch in flight").hasSizeLessThanOrEqualTo(BATCH);
            if (!repeats.isEmpty()) {
                assertThat(Collections.indexOfSubList(expected, repeats)).as("the repeats are one run of the log").isNotNegative();
            }
        }
    }
}
