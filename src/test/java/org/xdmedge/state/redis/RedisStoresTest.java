package org.xdmedge.state.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.outlet.EventIdLedger;
import org.xdmedge.outlet.EventIdLedgerContract;
import org.xdmedge.state.IdentityStateStore;
import org.xdmedge.state.IdentityStateStoreContract;
import org.xdmedge.testing.RedisTestServer;

/** The state-store contracts against a real redis-server, plus what only Redis can show. */
class RedisStoresTest {
    @TempDir
    static Path dir;
    static RedisTestServer server;

    @BeforeAll
    static void startRedis() throws Exception {
        server = RedisTestServer.start(dir.resolve("redis"));
    }

    @AfterAll
    static void stopRedis() {
        if (server != null) {
            server.close();
        }
    }

    /** Each test gets its own key prefix, so tests never see each other's keys. */
    static RedisState connect(String prefix) {
        return new RedisState(server.url(), 2000, prefix);
    }

    @Nested
    class IdentityState extends IdentityStateStoreContract {
        final String prefix = "t" + UUID.randomUUID() + ":";
        final List<RedisState> opened = new ArrayList<>();

        @Override
        protected IdentityStateStore open() {
            RedisState redis = connect(prefix);
            opened.add(redis);
            return new RedisIdentityStateStore(redis, 3600);
        }

        @Override
        protected IdentityStateStore reopen() {
            return open();
        }

        @AfterEach
        void closeConnections() {
            opened.forEach(RedisState::close);
        }
    }

    @Nested
    class Ledger extends EventIdLedgerContract {
        final String prefix = "t" + UUID.randomUUID() + ":";
        final List<RedisState> opened = new ArrayList<>();

        @Override
        protected EventIdLedger open(long windowMillis, long pendingMillis) {
            RedisState redis = connect(prefix);
            opened.add(redis);
            return new RedisEventIdLedger(redis, windowMillis, pendingMillis);
        }

        @AfterEach
        void closeConnections() {
            opened.forEach(RedisState::close);
        }

        @Test
        void anotherNodeSeesClaimsAndStoredIdsButCannotReleaseOurClaim() {
            EventIdLedger other = open(WINDOW_MILLIS, PENDING_MILLIS);
            assertThat(ledger.claim(List.of("ds:x", "ds:y"))).containsOnly(EventIdLedger.Claim.CLAIMED);
            assertThat(other.claim(List.of("ds:x"))).containsExactly(EventIdLedger.Claim.IN_FLIGHT);
            other.release(List.of("ds:x"));
            assertThat(other.claim(List.of("ds:x"))).containsExactly(EventIdLedger.Claim.IN_FLIGHT);
            ledger.confirm(List.of("ds:x"));
            assertThat(other.claim(List.of("ds:x"))).containsExactly(EventIdLedger.Claim.STORED);
        }
    }

    @Test
    void readinessFollowsTheServer() {
        try (RedisState redis = connect("r:")) {
            assertThat(redis.healthy()).isTrue();
        }
        try (RedisState nowhere = new RedisState("redis://127.0.0.1:1", 500, "r:")) {
            assertThat(nowhere.healthy()).isFalse();
        }
    }
}
