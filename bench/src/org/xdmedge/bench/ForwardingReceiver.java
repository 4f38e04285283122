package org.xdmedge.bench;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;

/**
 * The destination of the collect-1-forwarded scenario: reads each batch whole and answers 200, as
 * a receiver that keeps up would. {@code ForwardingReceiver <port>} (0: any); prints the same
 * "listening on" line as the edge.
 */
public final class ForwardingReceiver {
    private ForwardingReceiver() {}

    public static void main(String[] args) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0])), 64);
        server.setExecutor(Executors.newFixedThreadPool(2));
        server.createContext("/events", exchange -> {
            try (InputStream body = exchange.getRequestBody()) {
                body.transferTo(java.io.OutputStream.nullOutputStream());
            }
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        server.start();
        System.out.println("receiver listening on http://127.0.0.1:" + server.getAddress().getPort());
    }
}
