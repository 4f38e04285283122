package org.xdmedge.quality;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.function.LongConsumer;
import org.xdmedge.DataDirectoryLock;
import org.xdmedge.StartupException;
import org.xdmedge.config.EdgeConfig;
import org.xdmedge.outlet.StoredEvent;
import org.xdmedge.outlet.WriteResult;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.store.log.EventLogStore;
import org.xdmedge.store.log.FramePacking;

/**
 * Runs a configuration's mapping and schema over the events in quarantine. An event that passes is
 * stored in its dataset together with its replay mark, in one commit: a replay killed half-way
 * has stored each event with its mark or neither, and the next run skips what is marked. The event
 * keeps its {@code _id}, which the store's id index holds once, so an event is never stored twice.
 * An event that still fails stays in quarantine, with a new record when its reasons changed.
 *
 * <p>The data directory is locked for the run: replay refuses to run beside a serving edge.
 */
public final class QuarantineReplay {
    /** Events per commit: a kill loses at most one batch of work, never part of one. */
    static final int BATCH = 200;
    /** A pause after each commit (milliseconds; 0 by default): lets tests stop a replay half-way. */
    private static final long PAUSE_MILLIS = Long.getLong("xdmedge.replay.pauseMillis", 0);

    /** What a run did. {@code skipped}: events of datasets replay cannot write (Kafka) or of datastreams no longer configured. */
    public record Report(int examined, int stored, int alreadyStored, int stillInvalid, int requarantined, int skipped,
                         List<String> notes) {}

    private QuarantineReplay() {}

    /**
     * @param datastreamId only this datastream's events, or null for all
     * @param committed told the number of events handled after each commit (progress)
     */
    public static Report run(EdgeConfig config, Path dataDir, String datastreamId, LongConsumer committed)
            throws StartupException, IOException {
        DataQuality quality = DataQuality.compile(config);
        if (datastreamId != null && config.datastreams().stream().noneMatch(d -> d.id().equals(datastreamId))) {
            throw new StartupException("datastream '" + datastreamId + "' is not in the configuration; check --datastream",
                    StartupException.USAGE, null);
        }
        try (DataDirectoryLock lock = DataDirectoryLock.acquire(dataDir)) {
            List<Quarantine.Entry> entries = new ArrayList<>();
            Quarantine.forEachCurrent(dataDir, datastreamId, entries::add);
            Set<String> kafkaDatasets = new HashSet<>();
            for (EdgeConfig.DatasetConfig d : config.datasets()) {
                if (!EdgeConfig.DatasetConfig.EMBEDDED.equals(d.outlet())) {
                    kafkaDatasets.add(d.name());
                }
            }
            Set<String> configured = new HashSet<>();
            config.datastreams().forEach(d -> configured.add(d.id()));
            var storage = config.storage();
            EventLogStore store = EventLogStore.open(dataDir, EventLogStore.Options.DEFAULTS
                    .packing(FramePacking.of(storage.compression())));
            try {
                return replay(entries, quality, configured, kafkaDatasets, store, committed);
            } finally {
                store.close();
            }
        }
    }

    private static Report replay(List<Quarantine.Entry> entries, DataQuality quality, Set<String> configured,
                                 Set<String> kafkaDatasets, EventLogStore store, LongConsumer committed) {
        int stored = 0;
        int already = 0;
        int invalid = 0;
        int requarantined = 0;
        int skipped = 0;
        List<String> notes = new ArrayList<>();
        List<StoredEvent> batch = new ArrayList<>();
        int handled = 0;
        for (Quarantine.Entry entry : entries) {
            handled++;
            if (!configured.contains(entry.datastreamId())) {
                skipped++;
                note(notes, "datastream '" + entry.datastreamId() + "' is not in the configuration: its events stay in quarantine");
            } else if (kafkaDatasets.contains(entry.dataset())) {
                skipped++;
                note(notes, "dataset '" + entry.dataset() + "' goes to Kafka; replay stores into the embedded store only, "
                        + "so its events stay in quarantine");
            } else {
                DataQuality.Rules rules = quality.rules(entry.datastreamId());
                ObjectNode xdm = entry.xdm().deepCopy();
                DataQuality.Outcome outcome = rules == null ? unchecked(xdm, entry) : rules.check(xdm, entry.data(), entry.additions());
                if (outcome.valid()) {
                    StoredEvent s = entry.stored();
                    batch.add(new StoredEvent(s.requestId(), entry.datastreamId(), entry.dataset(), s.receivedAtMillis(),
                            entry.eventId(), s.primaryNamespace(), s.primaryId(), outcome.storedJson(), false));
                    batch.add(Quarantine.replayMark(entry, System.currentTimeMillis()));
                } else {
                    invalid++;
                    if (!outcome.violations().equals(entry.violations())) {
                        batch.add(Quarantine.requarantined(entry, outcome.violations()));
                        requarantined++;
                    }
                }
            }
            if (batch.size() >= BATCH || (handled == entries.size() && !batch.isEmpty())) {
                int[] counts = commit(store, batch);
                stored += counts[0];
                already += counts[1];
                batch.clear();
                committed.accept(handled);
                pause();
            }
        }
        return new Report(entries.size(), stored, already, invalid, requarantined, skipped, notes);
    }

    /** A datastream that now has no rules: the event is stored as sent, with what the edge added. */
    private static DataQuality.Outcome unchecked(ObjectNode xdm, Quarantine.Entry entry) {
        entry.additions().applyTo(xdm);
        ObjectNode stored = EdgeJson.MAPPER.createObjectNode();
        stored.set("xdm", xdm);
        if (entry.data() != null) {
            stored.set("data", entry.data());
        }
        try {
            return new DataQuality.Outcome(EdgeJson.MAPPER.writeValueAsBytes(stored), List.of());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Commits one batch; returns {events stored, events found already stored}. */
    private static int[] commit(EventLogStore store, List<StoredEvent> batch) {
        int events = 0;
        for (StoredEvent e : batch) {
            if (!e.dataset().equals(DataQuality.QUARANTINE_DATASET) && !e.dataset().equals(DataQuality.REPLAYED_DATASET)) {
                events++;
            }
        }
        WriteResult result;
        try {
            result = store.write(List.copyOf(batch)).toCompletableFuture().join();
        } catch (CompletionException e) {
            throw new IllegalStateException("the store refused a replay commit: "
                    + (e.getCause() == null ? e.getMessage() : e.getCause().getMessage()), e);
        }
        // Marks and new records are new by construction (the current quarantine has none of them):
        // every duplicate is an event its dataset already held.
        int duplicates = result.duplicates();
        return new int[] {events - duplicates, duplicates};
    }

    private static void pause() {
        if (PAUSE_MILLIS > 0) {
            try {
                Thread.sleep(PAUSE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void note(List<String> notes, String note) {
        if (!notes.contains(note)) {
            notes.add(note);
        }
    }
}
