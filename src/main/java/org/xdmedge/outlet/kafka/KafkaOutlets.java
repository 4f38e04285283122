package org.xdmedge.outlet.kafka;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiConsumer;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.outlet.DedupingSink;
import org.xdmedge.outlet.EventSink;

/** Builds the Kafka outlets of {@code datasets[]}, each behind the dedup ledger. */
public final class KafkaOutlets {
    public static final String NODE_ID_FILE = "node-id";

    private KafkaOutlets() {}

    /** Puts an outlet behind the dedup ledger, which the shared state owns. */
    @FunctionalInterface
    public interface Dedup {
        EventSink wrap(EventSink outlet, DedupingSink.Settler settler, long responseTimeoutMillis, int retryAfterSeconds);
    }

    /** dataset → outlet, for every dataset with {@code outlet: kafka}. Closes what it built on failure. */
    public static Map<String, EventSink> build(EdgeConfig config, Dedup dedup, Path dataDir,
                                               BiConsumer<String, KafkaEventSink> created) throws IOException {
        Map<String, EventSink> out = new HashMap<>();
        String nodeId = null;
        try {
            for (EdgeConfig.DatasetConfig ds : config.datasets()) {
                if (!EdgeConfig.DatasetConfig.KAFKA.equals(ds.outlet())) {
                    continue;
                }
                if (nodeId == null) {
                    nodeId = nodeId(dataDir);
                }
                var k = ds.kafka();
                KafkaEventSink sink = new KafkaEventSink(new KafkaEventSink.Settings(ds.name(), k.bootstrapServers(),
                        k.topic(), k.producer(), k.transactionalIdPrefix() + "-" + nodeId + "-" + ds.name(),
                        k.senders(), k.queueCapacity(), k.maxRequestsPerTransaction(), k.responseTimeoutMs(), k.retryAfterSeconds()));
                out.put(ds.name(), dedup.wrap(sink, sink, k.responseTimeoutMs(), k.retryAfterSeconds()));
                created.accept(ds.name(), sink);
            }
            return out;
        } catch (IOException | RuntimeException e) {
            out.values().forEach(EventSink::close);
            throw e;
        }
    }

    /**
     * A stable id for this node, kept in its data directory: the Kafka transactional ids derive from
     * it, so they are unique per node (two nodes never fence each other) and the same after a
     * restart (a restarted node fences its own former producer and settles its open transaction).
     */
    static String nodeId(Path dataDir) throws IOException {
        Path file = dataDir.resolve(NODE_ID_FILE);
        if (Files.exists(file)) {
            String id = Files.readString(file, StandardCharsets.UTF_8).trim();
            if (id.matches("[A-Za-z0-9-]{1,64}")) {
                return id;
            }
            throw new IOException(file + " does not hold a node id");
        }
        Files.createDirectories(dataDir);
        String id = UUID.randomUUID().toString();
        Path tmp = dataDir.resolve(NODE_ID_FILE + ".tmp");
        // Forced before and after the rename: a crash must leave no file or a whole one, never an empty one.
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer bytes = ByteBuffer.wrap((id + "\n").getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            out.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        try (FileChannel directory = FileChannel.open(dataDir, StandardOpenOption.READ)) {
            directory.force(true);
        }
        return id;
    }
}
