package org.xdmedge.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Start-up checks of {@code datasets[]} (outlets) and {@code state} (Redis, dedup window). */
final class OutletConfigCheck {
    private static final Pattern DATASET = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    /** Producer settings the outlet's guarantees rest on; the configuration may not change them. */
    static final Set<String> FIXED_PRODUCER_KEYS = Set.of("bootstrap.servers", "enable.idempotence", "acks",
            "transactional.id", "key.serializer", "value.serializer");

    record Problem(String path, String message) {}

    private OutletConfigCheck() {}

    static List<Problem> problems(EdgeConfig config) {
        List<Problem> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < config.datasets().size(); i++) {
            var ds = config.datasets().get(i);
            String at = "datasets[" + i + "]";
            if (ds.name() == null) {
                out.add(new Problem(at + ".name", "is required"));
            } else if (!DATASET.matcher(ds.name()).matches()) {
                out.add(new Problem(at + ".name", "must be letters, digits, '.', '_' or '-'"));
            } else if (!names.add(ds.name())) {
                out.add(new Problem(at + ".name", "duplicate dataset '" + ds.name() + "'"));
            }
            switch (ds.outlet()) {
                case EdgeConfig.DatasetConfig.EMBEDDED -> {
                    if (ds.kafka() != null) {
                        out.add(new Problem(at + ".kafka", "is only allowed with outlet: kafka"));
                    }
                }
                case EdgeConfig.DatasetConfig.KAFKA -> kafka(ds.kafka(), at + ".kafka", config.server().maxRequestBytes(), out);
                // The embedded store was once named after SQLite, which it no longer uses.
                case "sqlite" -> out.add(new Problem(at + ".outlet", "sqlite is now called embedded: write outlet: embedded"));
                default -> out.add(new Problem(at + ".outlet", "must be embedded or kafka"));
            }
        }
        var redis = config.state().redis();
        if (redis != null) {
            if (redis.url() == null) {
                out.add(new Problem("state.redis.url", "is required"));
            } else {
                try {
                    URI uri = new URI(redis.url());
                    if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme()) || uri.getHost() == null) {
                        out.add(new Problem("state.redis.url", "must look like redis://host:6379 or rediss://host:6380"));
                    }
                } catch (URISyntaxException e) {
                    out.add(new Problem("state.redis.url", "is not a URL: " + e.getMessage()));
                }
            }
            if (redis.timeoutMs() < 1) {
                out.add(new Problem("state.redis.timeoutMs", "must be at least 1"));
            }
            if (redis.identityStateTtlDays() < 1) {
                out.add(new Problem("state.redis.identityStateTtlDays", "must be at least 1"));
            }
        }
        var dedup = config.state().dedup();
        if (dedup.windowSeconds() < 1) {
            out.add(new Problem("state.dedup.windowSeconds", "must be at least 1"));
        }
        if (dedup.pendingSeconds() < 1) {
            out.add(new Problem("state.dedup.pendingSeconds", "must be at least 1"));
        }
        return out;
    }

    /** Room for what the edge adds to an event (_id, timestamp, ECID) and the record's envelope and headers. */
    static final int RECORD_OVERHEAD_BYTES = 16 * 1024;
    private static final int KAFKA_DEFAULT_MAX_REQUEST_SIZE = 1024 * 1024;

    private static void kafka(EdgeConfig.KafkaOutletConfig kafka, String at, int maxRequestBytes, List<Problem> out) {
        if (kafka == null) {
            out.add(new Problem(at, "is required with outlet: kafka"));
            return;
        }
        if (kafka.bootstrapServers() == null || kafka.bootstrapServers().isBlank()) {
            out.add(new Problem(at + ".bootstrapServers", "is required"));
        }
        if (kafka.topic() == null || kafka.topic().isBlank()) {
            out.add(new Problem(at + ".topic", "is required"));
        } else {
            String sample = kafka.topic().replace("{dataset}", "d").replace("{datastreamId}", "d");
            if (!sample.matches("[A-Za-z0-9._-]{1,249}")) {
                out.add(new Problem(at + ".topic", "must be a Kafka topic name; {dataset} and {datastreamId} are replaced"));
            }
        }
        for (Map.Entry<String, Object> e : kafka.producer().entrySet()) {
            if (FIXED_PRODUCER_KEYS.contains(e.getKey())) {
                out.add(new Problem(at + ".producer." + e.getKey(), "is set by the outlet and cannot be changed"));
            } else if (e.getValue() instanceof Map || e.getValue() instanceof List || e.getValue() == null) {
                out.add(new Problem(at + ".producer." + e.getKey(), "must be a single value"));
            }
        }
        // One oversized record would fail its whole transaction, and with it every request grouped
        // into it, on every retry: make sure the largest request's events always fit.
        Object maxRequestSize = kafka.producer().get("max.request.size");
        long limit = KAFKA_DEFAULT_MAX_REQUEST_SIZE;
        if (maxRequestSize != null) {
            try {
                limit = Long.parseLong(String.valueOf(maxRequestSize));
            } catch (NumberFormatException e) {
                out.add(new Problem(at + ".producer.max.request.size", "must be a number of bytes"));
            }
        }
        if (limit < (long) maxRequestBytes + RECORD_OVERHEAD_BYTES) {
            out.add(new Problem(at + ".producer.max.request.size", "must be at least server.maxRequestBytes + "
                    + RECORD_OVERHEAD_BYTES + " (" + ((long) maxRequestBytes + RECORD_OVERHEAD_BYTES)
                    + "), so that any accepted event fits in a Kafka record (" + limit + " now)"));
        }
        if (kafka.responseTimeoutMs() < 100) {
            out.add(new Problem(at + ".responseTimeoutMs", "must be at least 100"));
        }
        if (kafka.senders() < 1 || kafka.senders() > 16) {
            out.add(new Problem(at + ".senders", "must be between 1 and 16"));
        }
        if (kafka.queueCapacity() < 1) {
            out.add(new Problem(at + ".queueCapacity", "must be at least 1"));
        }
        if (kafka.maxRequestsPerTransaction() < 1) {
            out.add(new Problem(at + ".maxRequestsPerTransaction", "must be at least 1"));
        }
        if (kafka.retryAfterSeconds() < 1) {
            out.add(new Problem(at + ".retryAfterSeconds", "must be at least 1"));
        }
        if (!kafka.transactionalIdPrefix().matches("[A-Za-z0-9._-]{1,100}")) {
            out.add(new Problem(at + ".transactionalIdPrefix", "must be letters, digits, '.', '_' or '-'"));
        }
    }
}
