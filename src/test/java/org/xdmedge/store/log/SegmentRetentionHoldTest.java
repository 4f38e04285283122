package org.xdmedge.store.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.outlet.StoredEvent;

/** Retention keeps what a reader (forwarding) has not passed, up to the hold's own limit. */
class SegmentRetentionHoldTest {
    private static final long SEGMENT_BYTES = 64 << 10;

    @TempDir
    Path dir;

    /** A hold at a fixed position, recording what it is told goes. */
    static final class Hold implements RetentionHold {
        volatile long neededFrom;
        final long maxHeldBytes;
        final List<long[]> dropped = new ArrayList<>();

        Hold(long neededFrom, long maxHeldBytes) {
            this.neededFrom = neededFrom;
            this.maxHeldBytes = maxHeldBytes;
        }

        @Override
        public long neededFrom() {
            return neededFrom;
        }

        @Override
        public long maxHeldBytes() {
            return maxHeldBytes;
        }

        @Override
        public synchronized void dropping(long fromSeq, long toSeq) {
            dropped.add(new long[] {fromSeq, toSeq});
        }
    }

    @Test
    void segmentsAReaderHasNotPassedStayUntilTheHoldsLimit() throws Exception {
        try (EventLogStore store = EventLogStore.open(dir, EventLogStore.Options.DEFAULTS.queueCapacity(100)
                .maxRequestsPerCommit(8).segmentBytes(SEGMENT_BYTES))) {
            for (int i = 0; i < 600; i++) {
                store.write(List.of(event("e-" + i))).toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        }
        List<Path> segments = EventLog.segments(dir.resolve(EventLog.DIRECTORY));
        assertThat(segments).hasSizeGreaterThan(8);
        long now = System.currentTimeMillis();
        SegmentRetention.Limits tiny = new SegmentRetention.Limits(2 * SEGMENT_BYTES, null);
        long thirdFirst = EventLogRecovery.firstSeqOf(segments.get(2));
        long nextFirst = EventLogRecovery.firstSeqOf(segments.get(3));

        // The reader is in the third segment: the first two go, the third stays.
        Hold hold = new Hold(thirdFirst + 1, 0);
        SegmentRetention.Pass pass = SegmentRetention.apply(dir, tiny, Long.MAX_VALUE, now, hold);
        assertThat(pass.segments()).isEqualTo(2);
        assertThat(pass.retainedFromSeq()).isEqualTo(thirdFirst);
        assertThat(hold.dropped).isEmpty();
        assertThat(SegmentRetention.apply(dir, tiny, Long.MAX_VALUE, now, hold).segments()).isZero();

        // Past the hold's limit the oldest go anyway, and the hold hears of each first.
        long total = 0;
        for (Path s : EventLog.segments(dir.resolve(EventLog.DIRECTORY))) {
            total += Files.size(s);
        }
        Hold limited = new Hold(thirdFirst + 1, total - 2 * SEGMENT_BYTES);
        pass = SegmentRetention.apply(dir, tiny, Long.MAX_VALUE, now, limited);
        assertThat(pass.segments()).isGreaterThanOrEqualTo(2);
        assertThat(limited.dropped).isNotEmpty();
        assertThat(limited.dropped.get(0)[0]).isEqualTo(thirdFirst + 1);
        assertThat(limited.dropped.get(0)[1]).isEqualTo(nextFirst - 1);
    }

    private static StoredEvent event(String id) {
        return new StoredEvent("req", "ds", "events", System.currentTimeMillis(), id, "CRMID", "u",
                ("{\"xdm\":{\"_id\":\"" + id + "\",\"pad\":\"" + EventLogTest.pad(id, 2000) + "\"}}").getBytes(StandardCharsets.UTF_8));
    }
}
