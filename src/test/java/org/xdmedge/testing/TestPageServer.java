package org.xdmedge.testing;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The web site of the end-to-end tests: an HTTPS server on loopback serving one test page (for any
 * host name Chromium maps to it) that loads the Web SDK's standalone build straight from
 * {@code node_modules}. The SDK writes its state {@code Secure}, so the page must be https too.
 */
public final class TestPageServer implements AutoCloseable {
    /**
     * Declares the {@code alloy} command queue the standalone build looks for (its documented base
     * code, written out plainly): calls made before the script loads are queued and replayed.
     */
    static final String PAGE = """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>xdm-edge e2e</title>
            <script>
              window.__alloyNS = ["alloy"];
              window.alloy = function () {
                var args = arguments;
                return new Promise(function (resolve, reject) { window.alloy.q.push([resolve, reject, args]); });
              };
              window.alloy.q = [];
            </script>
            <script src="/alloy.js" async></script>
            </head><body><h1>xdm-edge end-to-end page</h1><a id="away" href="/next">next</a></body></html>
            """;

    private final Vertx vertx;
    private final HttpServer server;

    private TestPageServer(Vertx vertx, HttpServer server) {
        this.vertx = vertx;
        this.server = server;
    }

    public static TestPageServer start(TestCertificate certificate, Path alloyScript) throws Exception {
        byte[] script = Files.readAllBytes(alloyScript);
        Vertx vertx = Vertx.vertx();
        try {
            HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0)
                    .setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
                            .setCertPath(certificate.certFile().toString()).setKeyPath(certificate.keyFile().toString())))
                    .requestHandler(req -> {
                        var res = req.response().putHeader("cache-control", "no-store");
                        if (req.path().equals("/alloy.js")) {
                            res.putHeader("content-type", "text/javascript; charset=utf-8")
                                    .end(Buffer.buffer(script));
                        } else if (req.path().equals("/favicon.ico")) {
                            res.setStatusCode(404).end();
                        } else {
                            res.putHeader("content-type", "text/html; charset=utf-8").end(PAGE);
                        }
                    })
                    .listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            return new TestPageServer(vertx, server);
        } catch (Exception e) {
            vertx.close();
            throw e;
        }
    }

    public int port() {
        return server.actualPort();
    }

    @Override
    public void close() {
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // closing anyway
        }
    }
}
