package org.xdmedge.forwarding;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.xdmedge.config.DestinationConfig;
import org.xdmedge.outlet.EventRecords;
import org.xdmedge.outlet.StoredEvent;

/**
 * Sends batches to one HTTP destination with the JDK client: a POST of a JSON array of events (each
 * as {@code export} writes it), {@code Idempotency-Key}, and with a signing secret
 * {@code X-Xdm-Edge-Signature: sha256=<hex HMAC-SHA256 of the body>}. Blocking: runs on the
 * destination's own thread.
 */
public final class HttpDestination {
    public static final String SIGNATURE_HEADER = "X-Xdm-Edge-Signature";
    public static final String IDEMPOTENCY_HEADER = "Idempotency-Key";
    /** The longest a {@code Retry-After} is honoured; a longer one is read as this. */
    static final Duration MAX_RETRY_AFTER = Duration.ofHours(1);

    /** What a request came to. */
    public enum Kind {
        /** 2xx: the destination has the batch. */
        DELIVERED,
        /** 5xx, 408, 429, a timeout or a connection error: worth another attempt. */
        RETRY,
        /** Another status: the destination refuses these events. */
        REJECTED
    }

    /** {@code retryAfter}: what the destination asked to wait (null: nothing); {@code error}: a failure's text. */
    public record Outcome(Kind kind, int status, Duration retryAfter, String error) {}

    private final String id;
    private final URI url;
    private final Map<String, String> headers;
    private final byte[] signingKey;
    private final Duration timeout;
    private final HttpClient client;

    /**
     * A destination with its {@code ${env:NAME}} references resolved through {@code env}; a variable
     * not set is an {@link IllegalArgumentException} naming the key.
     */
    public static HttpDestination of(DestinationConfig config, Function<String, String> env) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (var h : config.headers().entrySet()) {
            try {
                headers.put(h.getKey(), EnvReferences.resolve(h.getValue(), env));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("destination '" + config.id() + "', headers." + h.getKey() + ": "
                        + e.getMessage(), e);
            }
        }
        String secret;
        try {
            secret = EnvReferences.resolve(config.signingSecret(), env);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("destination '" + config.id() + "', signingSecret: " + e.getMessage(), e);
        }
        return new HttpDestination(config.id(), URI.create(config.url()), headers,
                secret == null ? null : secret.getBytes(StandardCharsets.UTF_8), Duration.ofMillis(config.timeoutMs()));
    }

    HttpDestination(String id, URI url, Map<String, String> headers, byte[] signingKey, Duration timeout) {
        this.id = id;
        this.url = url;
        this.headers = headers;
        this.signingKey = signingKey;
        this.timeout = timeout;
        this.client = HttpClient.newBuilder()
                .version("https".equals(url.getScheme()) ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1)
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    public String id() {
        return id;
    }

    /** The request body for {@code records} (each an event as {@code export} writes it). */
    public static byte[] body(List<byte[]> records) {
        int size = 2;
        for (byte[] r : records) {
            size += r.length + 1;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(size);
        out.write('[');
        for (int i = 0; i < records.size(); i++) {
            if (i > 0) {
                out.write(',');
            }
            out.writeBytes(records.get(i));
        }
        out.write(']');
        return out.toByteArray();
    }

    /** The request body for {@code events}: a JSON array of their records, each as {@code export} writes it. */
    public static byte[] bodyOf(List<StoredEvent> events) {
        int size = 2;
        for (StoredEvent e : events) {
            size += e.eventJson().length + 320;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(size);
        out.write('[');
        for (int i = 0; i < events.size(); i++) {
            if (i > 0) {
                out.write(',');
            }
            try {
                EventRecords.write(events.get(i), out);
            } catch (IOException e) {
                throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
            }
        }
        out.write(']');
        return out.toByteArray();
    }

    /** Hex SHA-256 of the events' ids, each followed by a newline: the same events give the same key. */
    public static String idempotencyKey(List<String> eventIds) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String eventId : eventIds) {
                sha.update(eventId.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) '\n');
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code sha256=<hex HMAC-SHA256 of body under key>}. */
    public static String signature(byte[] key, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends one batch; blocks until the answer, the timeout, or an interrupt (then it throws). */
    public Outcome send(byte[] body, List<String> eventIds) throws InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(url)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header(IDEMPOTENCY_HEADER, idempotencyKey(eventIds))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach(request::header);
        if (signingKey != null) {
            request.header(SIGNATURE_HEADER, signature(signingKey, body));
        }
        HttpResponse<Void> response;
        try {
            response = client.send(request.build(), HttpResponse.BodyHandlers.discarding());
        } catch (HttpTimeoutException e) {
            return new Outcome(Kind.RETRY, 0, null, "no answer within " + timeout.toMillis() + " ms");
        } catch (IOException e) {
            return new Outcome(Kind.RETRY, 0, null, e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        }
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            return new Outcome(Kind.DELIVERED, status, null, null);
        }
        if (status >= 500 || status == 408 || status == 429) {
            return new Outcome(Kind.RETRY, status, retryAfter(response.headers().firstValue("Retry-After").orElse(null)),
                    "HTTP " + status);
        }
        return new Outcome(Kind.REJECTED, status, null, "HTTP " + status);
    }

    /** {@code Retry-After} as seconds or an HTTP date; null when absent or unreadable. */
    static Duration retryAfter(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        Duration wait;
        try {
            wait = Duration.ofSeconds(Math.max(0, Long.parseLong(value.trim())));
        } catch (NumberFormatException notSeconds) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
                wait = Duration.between(Instant.now(), at.toInstant());
                wait = wait.isNegative() ? Duration.ZERO : wait;
            } catch (DateTimeParseException notDate) {
                return null;
            }
        }
        return wait.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : wait;
    }
}
