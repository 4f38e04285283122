package org.xdmedge.outlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xdmedge.outlet.EventIdLedger.Claim;

/** What every {@link EventIdLedger} does; run against SQLite and Redis. */
public abstract class EventIdLedgerContract {
    protected static final long WINDOW_MILLIS = 60_000;
    protected static final long PENDING_MILLIS = 60_000;
    protected EventIdLedger ledger;

    protected abstract EventIdLedger open(long windowMillis, long pendingMillis) throws Exception;

    @BeforeEach
    public void openLedger() throws Exception {
        ledger = open(WINDOW_MILLIS, PENDING_MILLIS);
    }

    @AfterEach
    public void closeLedger() {
        ledger.close();
    }

    @Test
    public void newIdsAreClaimedAndHeldWhileInFlight() {
        assertThat(ledger.claim(List.of("ds:a", "ds:b"))).containsExactly(Claim.CLAIMED, Claim.CLAIMED);
        assertThat(ledger.claim(List.of("ds:a", "ds:c"))).containsExactly(Claim.IN_FLIGHT, Claim.CLAIMED);
    }

    @Test
    public void confirmedIdsAreDuplicatesWithinTheWindow() {
        ledger.claim(List.of("ds:a", "ds:b"));
        ledger.confirm(List.of("ds:a", "ds:b"));
        assertThat(ledger.claim(List.of("ds:b", "ds:a", "ds:new"))).containsExactly(Claim.STORED, Claim.STORED, Claim.CLAIMED);
    }

    @Test
    public void releasedIdsCanBeClaimedAgain() {
        ledger.claim(List.of("ds:a"));
        ledger.release(List.of("ds:a"));
        assertThat(ledger.claim(List.of("ds:a"))).containsExactly(Claim.CLAIMED);
    }

    @Test
    public void datastreamsAreSeparate() {
        ledger.claim(List.of("ds1:a"));
        ledger.confirm(List.of("ds1:a"));
        assertThat(ledger.claim(List.of("ds2:a"))).containsExactly(Claim.CLAIMED);
    }

    @Test
    public void storedIdsAreForgottenAfterTheWindow() throws Exception {
        ledger.close();
        ledger = open(300, PENDING_MILLIS);
        ledger.claim(List.of("ds:w"));
        ledger.confirm(List.of("ds:w"));
        assertThat(ledger.claim(List.of("ds:w"))).containsExactly(Claim.STORED);
        Thread.sleep(1200);
        assertThat(ledger.claim(List.of("ds:w"))).containsExactly(Claim.CLAIMED);
    }

    @Test
    public void aClaimWhoseOwnerVanishedRunsOut() throws Exception {
        ledger.close();
        ledger = open(WINDOW_MILLIS, 300);
        ledger.claim(List.of("ds:p"));
        assertThat(ledger.claim(List.of("ds:p"))).containsExactly(Claim.IN_FLIGHT);
        Thread.sleep(1200);
        assertThat(ledger.claim(List.of("ds:p"))).containsExactly(Claim.CLAIMED);
    }

    @Test
    public void isReady() {
        assertThat(ledger.ready()).isTrue();
    }
}
