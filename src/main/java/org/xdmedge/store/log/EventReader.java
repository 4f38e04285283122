package org.xdmedge.store.log;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.xdmedge.outlet.StoredEvent;

/**
 * Reads stored events back in the order they were committed, for {@code export}. Only reads, so it
 * works beside a running server (it sees the frames complete when it reaches them).
 */
public final class EventReader {
    private EventReader() {}

    /** True when {@code dataDir} holds an event log. */
    public static boolean exists(Path dataDir) {
        return EventLog.exists(dataDir);
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
        EventLogRecovery.scan(dataDir, 0, (seq, e) -> counted.accept(e));
        return count[0];
    }
}
