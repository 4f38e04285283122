package org.xdmedge.outlet;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Sends each request's events to the outlet of their dataset ({@code datasets[]} in the config),
 * and everything else to the default outlet (the embedded SQLite store). A request's events that
 * share an outlet (its datastream's dataset, and {@code quarantine} for its invalid events) go to
 * that outlet as one unit.
 */
public final class DatasetRouter implements EventSink {
    private final EventSink fallback;
    private final Map<String, EventSink> byDataset;

    public DatasetRouter(EventSink fallback, Map<String, EventSink> byDataset) {
        this.fallback = fallback;
        this.byDataset = Map.copyOf(byDataset);
    }

    public EventSink sinkFor(String dataset) {
        return byDataset.getOrDefault(dataset, fallback);
    }

    @Override
    public CompletionStage<WriteResult> write(List<StoredEvent> events) {
        if (events.isEmpty()) {
            return CompletableFuture.completedFuture(new WriteResult(0, 0));
        }
        // Grouped by outlet, not by dataset: a request's valid events and its quarantined ones go to
        // the embedded store as one write, so they are committed together.
        Map<EventSink, List<StoredEvent>> groups = new IdentityHashMap<>();
        for (StoredEvent e : events) {
            groups.computeIfAbsent(sinkFor(e.dataset()), d -> new ArrayList<>()).add(e);
        }
        if (groups.size() == 1) {
            return sinkFor(events.get(0).dataset()).write(events);
        }
        // Datasets in different outlets: each outlet's share is still one unit.
        CompletableFuture<WriteResult> all = CompletableFuture.completedFuture(new WriteResult(0, 0));
        for (Map.Entry<EventSink, List<StoredEvent>> g : groups.entrySet()) {
            CompletableFuture<WriteResult> one = g.getKey().write(g.getValue()).toCompletableFuture();
            all = all.thenCombine(one, (a, b) -> new WriteResult(a.stored() + b.stored(), a.duplicates() + b.duplicates()));
        }
        return all;
    }

    @Override
    public boolean ready() {
        if (!fallback.ready()) {
            return false;
        }
        for (EventSink sink : byDataset.values()) {
            if (!sink.ready()) {
                return false;
            }
        }
        return true;
    }

    /** Closes every outlet once (several datasets may share one). */
    @Override
    public void close() {
        Map<EventSink, Boolean> closed = new IdentityHashMap<>();
        for (EventSink sink : byDataset.values()) {
            if (closed.put(sink, Boolean.TRUE) == null) {
                sink.close();
            }
        }
        if (closed.put(fallback, Boolean.TRUE) == null) {
            fallback.close();
        }
    }
}
