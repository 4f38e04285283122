package org.xdmedge.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.protocol.Regions;

class EdgeRoutesTest {
    private Vertx vertx;

    @AfterEach
    void stop() throws Exception {
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aHandlerThatThrowsIsAnsweredWithAProblemAndTheListenerCarriesOn() throws Exception {
        vertx = Vertx.vertx();
        boolean[] ready = {true};
        EdgeRoutes routes = new EdgeRoutes(new BrowserHeaders(Regions.edgeHeader("or2")), null, () -> {
            if (ready[0]) {
                return true;
            }
            throw new IllegalStateException("readiness probe broke");
        }, () -> "");
        HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
                .requestHandler(routes).listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        HttpClient client = HttpClient.newHttpClient();
        URI ready200 = URI.create("http://127.0.0.1:" + server.actualPort() + "/ready");

        assertThat(client.send(HttpRequest.newBuilder(ready200).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
                .isEqualTo(200);
        ready[0] = false;
        HttpResponse<String> failed = client.send(HttpRequest.newBuilder(ready200).timeout(Duration.ofSeconds(10)).header("origin", "https://shop.example.test").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(failed.statusCode()).isEqualTo(500);
        assertThat(failed.headers().firstValue("content-type")).hasValue(Problems.PROBLEM_JSON);
        assertThat(failed.headers().firstValue("x-adobe-edge")).isPresent();
        assertThat(failed.headers().firstValue("access-control-allow-origin")).hasValue("https://shop.example.test");
        JsonNode problem = EdgeJson.MAPPER.readTree(failed.body());
        assertThat(problem.get("type").asText()).endsWith("EXEG-0001-500");
        assertThat(problem.get("report").get("requestId").asText()).isEqualTo(failed.headers().firstValue("x-request-id").orElseThrow());

        ready[0] = true;
        assertThat(client.send(HttpRequest.newBuilder(ready200).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
                .as("the same connection pool and listener still answer").isEqualTo(200);
    }

    @Test
    void percentEncodingOfPaths() {
        assertThat(EdgeRoutes.validPercentEncoding("/ee/v2/collect")).isTrue();
        assertThat(EdgeRoutes.validPercentEncoding("/ee/%41%2fv2%2F")).isTrue();
        assertThat(EdgeRoutes.validPercentEncoding("/ee/%zz/v2")).isFalse();
        assertThat(EdgeRoutes.validPercentEncoding("/ee/%4")).isFalse();
        assertThat(EdgeRoutes.validPercentEncoding("/ee/%")).isFalse();
        assertThat(EdgeRoutes.validPercentEncoding("/ee/%4g")).isFalse();
        assertThat(EdgeRoutes.validPercentEncoding("/ee/%\u0663\u0663")).as("only ASCII hex digits").isFalse();
    }
}
