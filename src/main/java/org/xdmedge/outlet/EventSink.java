package org.xdmedge.outlet;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Where accepted events go: the embedded SQLite store, Kafka, and later other outlets. A sink takes
 * one request's events as a unit: they become durable (and visible) together or not at all, and
 * the returned stage completes only once they are durable. An event whose id is already stored for
 * its datastream is counted as a duplicate, not stored again.
 *
 * <p>Implementations never block the caller: a sink that cannot take more work right now fails
 * the stage at once with {@link SinkUnavailableException}.
 */
public interface EventSink extends AutoCloseable {
    CompletionStage<WriteResult> write(List<StoredEvent> events);

    /** True while writes are being accepted and committed. */
    boolean ready();

    /** Stops taking writes, finishes what was accepted, releases resources. */
    @Override
    void close();
}
