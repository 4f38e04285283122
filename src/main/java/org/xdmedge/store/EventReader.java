package org.xdmedge.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.function.Consumer;

/**
 * Reads stored events back in the order they were committed, for {@code export}: the event log,
 * then any rows of an older version's {@code events.sqlite} not yet imported into it. Only reads,
 * so it works beside a running server (it sees the frames complete when it reaches them).
 */
public final class EventReader {
    private EventReader() {}

    /** True when {@code dataDir} holds stored events (a log, or an older version's file). */
    public static boolean exists(Path dataDir) {
        return EventLog.exists(dataDir) || Files.exists(dataDir.resolve(SqliteEventsImport.FILE_NAME));
    }

    /** Calls {@code each} for every stored event (of {@code dataset}, when not null); returns the count. */
    public static long forEach(Path dataDir, String dataset, Consumer<StoredEvent> each) throws IOException {
        if (!exists(dataDir)) {
            throw new IOException("no event store at " + dataDir.toAbsolutePath());
        }
        long[] count = {0};
        Consumer<StoredEvent> counted = e -> {
            if (dataset == null || dataset.equals(e.dataset())) {
                each.accept(e);
                count[0]++;
            }
        };
        long last = EventLog.scan(dataDir, 0, (seq, e) -> counted.accept(e));
        try {
            SqliteEventsImport.forEachRow(dataDir, last, counted);
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
        return count[0];
    }
}
