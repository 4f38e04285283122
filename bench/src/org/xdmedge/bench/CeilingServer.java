package org.xdmedge.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;
import java.util.UUID;

/**
 * The ceiling the edge is measured against: the same HTTP stack (Vert.x, one listener per event
 * loop), the same bodies parsed with Jackson, a 202 with a small JSON answer, and nothing stored.
 * Benchmark-only; never part of the edge's jar. Usage: {@code CeilingServer PORT}; prints the
 * same "listening on" line as the edge.
 */
public final class CeilingServer {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        if (port == 0) {
            try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                port = probe.getLocalPort();
            }
        }
        int listenPort = port;
        int loops = Runtime.getRuntime().availableProcessors();
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops));
        vertx.deployVerticle(() -> new Listener(listenPort), new DeploymentOptions().setInstances(loops))
                .toCompletionStage().toCompletableFuture().get();
        System.out.println("ceiling listening on http://127.0.0.1:" + port);
    }

    private static final class Listener extends VerticleBase {
        private final int port;

        Listener(int port) {
            this.port = port;
        }

        @Override
        public Future<?> start() {
            return vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port))
                    .requestHandler(req -> req.body().onSuccess(body -> {
                        int events;
                        try {
                            JsonNode tree = MAPPER.readTree(body.getBytes());
                            JsonNode list = tree.get("events");
                            events = list != null ? list.size() : tree.has("event") ? 1 : 0;
                        } catch (java.io.IOException e) {
                            req.response().setStatusCode(400).end();
                            return;
                        }
                        req.response().setStatusCode(events > 0 ? 202 : 400)
                                .putHeader("content-type", "application/json;charset=utf-8")
                                .end(Buffer.buffer("{\"requestId\":\"" + UUID.randomUUID() + "\"}"));
                    })).listen();
        }
    }
}
