package org.xdmedge.forwarding;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/**
 * A destination on loopback that fails on purpose: each request is answered as a script says
 * (a status, a delay before it, or a connection closed without an answer). Records every request
 * when it arrives, with the status it gets.
 */
final class FlakyReceiver implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How to answer: {@code status} after {@code delayMs}; status 0 closes the connection without an answer. */
    record Answer(int status, long delayMs, String retryAfter) {
        static Answer ok() {
            return new Answer(200, 0, null);
        }

        static Answer status(int status) {
            return new Answer(status, 0, null);
        }

        static Answer reset() {
            return new Answer(0, 0, null);
        }
    }

    /** One request: its number (from 1), headers, body, the events' ids, the status it was given. */
    record Received(int n, Map<String, List<String>> headers, byte[] body, List<String> eventIds, int status) {
        String header(String name) {
            for (var e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().get(0);
                }
            }
            return null;
        }
    }

    private final HttpServer server;
    private final ExecutorService threads = Executors.newFixedThreadPool(4);
    private final AtomicInteger count = new AtomicInteger();
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private volatile BiFunction<Integer, List<String>, Answer> script;

    FlakyReceiver(BiFunction<Integer, List<String>, Answer> script) throws IOException {
        this.script = script;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        server.setExecutor(threads);
        server.createContext("/events", this::handle);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/events";
    }

    void script(BiFunction<Integer, List<String>, Answer> newScript) {
        script = newScript;
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        List<String> ids = new ArrayList<>();
        for (JsonNode event : JSON.readTree(body)) {
            ids.add(event.get("eventId").asText());
        }
        int n = count.incrementAndGet();
        Answer answer = script.apply(n, ids);
        received.add(new Received(n, Map.copyOf(exchange.getRequestHeaders()), body, ids, answer.status()));
        try {
            if (answer.delayMs() > 0) {
                Thread.sleep(answer.delayMs());
            }
            if (answer.status() == 0) {
                return; // closed below without an answer: the connection is cut under the client
            }
            if (answer.retryAfter() != null) {
                exchange.getResponseHeaders().add("Retry-After", answer.retryAfter());
            }
            exchange.sendResponseHeaders(answer.status(), -1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // the client gave up (a timeout): nothing to answer
        } finally {
            exchange.close();
        }
    }

    List<Received> received() {
        return List.copyOf(received);
    }

    /** Event ids of the requests answered 2xx, in the order they arrived, each once. */
    List<String> deliveredOnce() {
        Set<String> ids = new LinkedHashSet<>();
        for (Received r : received) {
            if (r.status() >= 200 && r.status() < 300) {
                ids.addAll(r.eventIds());
            }
        }
        return List.copyOf(ids);
    }

    /** Event ids of the requests answered 2xx, in the order they arrived, with repeats. */
    List<String> deliveredAll() {
        List<String> ids = new ArrayList<>();
        for (Received r : received) {
            if (r.status() >= 200 && r.status() < 300) {
                ids.addAll(r.eventIds());
            }
        }
        return ids;
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
