package org.xdmedge.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.outlet.EventIdLedger.Claim;
import org.xdmedge.outlet.EventIdLedger;
import org.xdmedge.outlet.EventIdLedgerContract;

class SqliteEventIdLedgerTest extends EventIdLedgerContract {
    private static final String TAG = "kafka:2:edge-node-web-events";
    @TempDir
    Path dir;

    @Override
    protected EventIdLedger open(long windowMillis, long pendingMillis) throws Exception {
        return new SqliteEventIdLedger(dir, windowMillis, pendingMillis);
    }

    /** The process ends without closing (as a SIGKILL leaves it) and the next one opens the same file. */
    EventIdLedger restart() throws Exception {
        return open(WINDOW_MILLIS, PENDING_MILLIS);
    }

    @Test
    void claimsWithAWriterOutliveTheProcessAndAreHeldAsEnded() throws Exception {
        long before = System.currentTimeMillis();
        assertThat(ledger.claim(List.of("ds:k", "ds:j"), TAG)).containsExactly(Claim.CLAIMED, Claim.CLAIMED);
        ledger.confirm(List.of("ds:j"));
        ledger.claim(List.of("ds:u")); // no writer: nothing to settle it from, so it stays in memory
        assertThat(ledger.holders(List.of("ds:k"))).hasEntrySatisfying("ds:k", h -> {
            assertThat(h.live()).isTrue();
            assertThat(h.ended()).isFalse();
        });

        EventIdLedger next = restart();
        try {
            assertThat(next.claim(List.of("ds:k", "ds:j", "ds:u"), TAG)).containsExactly(Claim.IN_FLIGHT, Claim.STORED, Claim.CLAIMED);
            Map<String, EventIdLedger.Holder> holders = next.holders(List.of("ds:k", "ds:j", "ds:u"));
            assertThat(holders).containsOnlyKeys("ds:k", "ds:u");
            EventIdLedger.Holder k = holders.get("ds:k");
            assertThat(k.ended()).isTrue();
            assertThat(k.live()).isFalse();
            assertThat(k.writerTag()).isEqualTo(TAG);
            assertThat(k.claimedAtMillis()).isBetween(before, System.currentTimeMillis());
            assertThat(holders.get("ds:u").ended()).isFalse();
        } finally {
            next.close();
        }
    }

    @Test
    void settledClaimsAreStoredOrFreedForGood() throws Exception {
        ledger.claim(List.of("ds:found", "ds:absent", "ds:left"), TAG);
        EventIdLedger next = restart();
        try {
            Map<String, EventIdLedger.Holder> h = next.holders(List.of("ds:found", "ds:absent"));
            next.settle(Map.of("ds:found", h.get("ds:found")), Map.of("ds:absent", h.get("ds:absent")));
            // A settle of a claim that changed meanwhile (settled by another retry) does nothing.
            next.settle(Map.of("ds:absent", h.get("ds:absent")), Map.of());
            assertThat(next.claim(List.of("ds:found", "ds:absent", "ds:left"), TAG))
                    .containsExactly(Claim.STORED, Claim.CLAIMED, Claim.IN_FLIGHT);
            next.release(List.of("ds:absent"));
        } finally {
            next.close();
        }
        EventIdLedger third = restart();
        try {
            assertThat(third.claim(List.of("ds:found", "ds:absent", "ds:left"), TAG))
                    .containsExactly(Claim.STORED, Claim.CLAIMED, Claim.IN_FLIGHT);
        } finally {
            third.close();
        }
    }

    @Test
    void aReleasedClaimIsGoneFromDisk() throws Exception {
        ledger.claim(List.of("ds:r"), TAG);
        ledger.release(List.of("ds:r"));
        EventIdLedger next = restart();
        try {
            assertThat(next.holders(List.of("ds:r"))).isEmpty();
            assertThat(next.claim(List.of("ds:r"), TAG)).containsExactly(Claim.CLAIMED);
        } finally {
            next.close();
        }
    }

    @Test
    void concurrentClaimsAreCommittedTogetherAndAllOnDisk() throws Exception {
        var pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<List<Claim>>> claims = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String key = "ds:c" + i;
                claims.add(pool.submit(() -> ledger.claim(List.of(key), TAG)));
            }
            for (var c : claims) {
                assertThat(c.get()).containsExactly(Claim.CLAIMED);
            }
        } finally {
            pool.shutdownNow();
        }
        EventIdLedger next = restart();
        try {
            List<String> keys = IntStream.range(0, 200).mapToObj(i -> "ds:c" + i).toList();
            assertThat(next.holders(keys)).hasSize(200).allSatisfy((k, h) -> assertThat(h.ended()).isTrue());
        } finally {
            next.close();
        }
    }
}
