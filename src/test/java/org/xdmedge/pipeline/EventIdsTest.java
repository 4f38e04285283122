package org.xdmedge.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class EventIdsTest {
    @Test
    void timestampsAreTheInstantOfTheirOwnMillisecondEvenRightAfterAnother() {
        long[] millis = {1_790_000_000_123L, 1_790_000_000_123L, 1_790_000_000_124L, 1_790_000_000_000L, 0L, 1_790_000_000_124L};
        for (long m : millis) {
            assertThat(EventIds.isoTimestamp(m)).isEqualTo(Instant.ofEpochMilli(m).toString());
        }
    }

    @Test
    void generatedIdsAreVersion7AndCarryTheirMillisecond() {
        long now = 1_790_000_000_123L;
        UUID id = UUID.fromString(EventIds.timeOrdered(now));
        assertThat(id.version()).isEqualTo(7);
        assertThat(id.variant()).isEqualTo(2);
        assertThat(id.getMostSignificantBits() >>> 16).isEqualTo(now);
        assertThat(EventIds.timeOrdered(now)).isNotEqualTo(id.toString());
    }
}
