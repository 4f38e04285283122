package org.xdmedge.state.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.testing.RedisTestServer;
import org.xdmedge.testing.TestEdge;

/** With shared state in Redis, a Redis outage is a clean 503 and the node recovers by itself. */
class RedisOutageTest {
    @TempDir
    Path dir;

    @Test
    void redisDownAnswers503AndNotReadyThenRecovers() throws Exception {
        RedisTestServer redis = RedisTestServer.start(dir.resolve("redis"));
        int port = redis.port();
        String yaml = TestEdge.BASIC_CONFIG + "state: { redis: { url: \"" + redis.url() + "\", timeoutMs: 500 } }\n";
        String body = "{\"events\":[{\"xdm\":{\"_id\":\"e-1\",\"identityMap\":{\"CRMID\":[{\"id\":\"c-1\",\"primary\":true}]}}}]}";
        try (TestEdge edge = TestEdge.start(yaml, dir.resolve("edge"))) {
            edge.awaitReady(Duration.ofSeconds(30));
            redis.close();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (edge.get("/ready").statusCode() != 503) {
                assertThat(System.nanoTime()).as("/ready turns 503 without Redis").isLessThan(deadline);
                Thread.sleep(100);
            }
            HttpResponse<String> res = edge.postJson("/ee/v2/collect?datastreamId=ds", body);
            assertThat(res.statusCode()).isEqualTo(503);
            assertThat(res.headers().firstValue("retry-after")).isPresent();
            assertThat(TestEdge.json(res.body()).get("type").asText()).endsWith("EXEG-0000-503");
            assertThat(edge.exported()).isEmpty();

            redis = RedisTestServer.start(dir.resolve("redis2"), port);
            edge.awaitReady(Duration.ofSeconds(30));
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", body).statusCode()).isEqualTo(202);
            assertThat(edge.postJson("/ee/v2/collect?datastreamId=ds", body).statusCode()).isEqualTo(202);
            assertThat(edge.exported()).hasSize(1);
        } finally {
            redis.close();
        }
    }
}
