package org.xdmedge.outlet.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xdmedge.outlet.kafka.KafkaTestSupport.collect;
import static org.xdmedge.outlet.kafka.KafkaTestSupport.config;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.TestEdge;

/** A node whose Kafka is not there at all starts, says it is not ready, and refuses writes cleanly. */
class KafkaUnreachableTest {
    @TempDir
    Path dir;

    @Test
    void startsNotReadyAndAnswers503WithRetryAfterWhileEmbeddedDatasetsStillWork() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress("127.0.0.1", 0));
            closedPort = probe.getLocalPort();
        }
        try (TestEdge edge = TestEdge.start(config("127.0.0.1:" + closedPort, "nowhere", null), dir)) {
            assertThat(edge.get("/ready").statusCode()).isEqualTo(503);
            HttpResponse<String> res = edge.postJson("/ee/v2/collect?datastreamId=ds", collect(List.of("u-1")));
            assertThat(res.statusCode()).isEqualTo(503);
            assertThat(res.headers().firstValue("retry-after")).contains("1");
            assertThat(TestEdge.json(res.body()).get("type").asText()).endsWith("EXEG-0000-503");
            // The embedded store's datasets do not depend on Kafka.
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=local", collect(List.of("u-2"))).statusCode()).isEqualTo(202);
            assertThat(edge.exported()).hasSize(1);
        }
    }
}
