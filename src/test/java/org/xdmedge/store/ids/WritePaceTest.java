package org.xdmedge.store.ids;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WritePaceTest {
    @TempDir
    Path dir;

    @Test
    void aStepWaitsOutItsShareOfTheRate() {
        WritePace pace = new WritePace(1 << 20, () -> false); // 1 MiB/s
        long started = System.nanoTime();
        pace.stepDone(256 << 10, started);
        assertThat(System.nanoTime() - started).as("a quarter MiB at 1 MiB/s").isGreaterThanOrEqualTo(250_000_000L);
    }

    @Test
    void timeTheStepTookCountsTowardsItsShare() {
        WritePace pace = new WritePace(1 << 20, () -> false);
        long started = System.nanoTime() - 1_000_000_000L; // the step itself took a second
        long before = System.nanoTime();
        pace.stepDone(256 << 10, started);
        assertThat(System.nanoTime() - before).as("nothing left to wait").isLessThan(250_000_000L);
    }

    @Test
    void unpacedAndStoppedPacesDoNotWait() {
        long before = System.nanoTime();
        WritePace.UNPACED.stepDone(1L << 40, System.nanoTime());
        new WritePace(1, () -> true).stepDone(1L << 40, System.nanoTime()); // a terabyte at a byte a second
        assertThat(System.nanoTime() - before).isLessThan(5_000_000_000L);
    }

    @Test
    void aStopEndsTheWaitOfAStepUnderWay() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        WritePace pace = new WritePace(1, stop::get);
        Thread waiting = new Thread(() -> pace.stepDone(1L << 40, System.nanoTime()));
        waiting.start();
        Thread.sleep(100);
        assertThat(waiting.isAlive()).isTrue();
        stop.set(true);
        waiting.join(5_000);
        assertThat(waiting.isAlive()).as("given up once stopped").isFalse();
    }

    @Test
    void aPacedTableIsMadeNoFasterThanThePaceAndWhole() throws Exception {
        Path file = dir.resolve("000001" + IdTable.SUFFIX);
        long started = System.nanoTime();
        // 2^16 slots: 2 MiB of zeros, four forced steps, at 8 MiB/s.
        IdTable.create(file, 16, 7, 1, () -> false, new WritePace(8 << 20, () -> false));
        assertThat(System.nanoTime() - started).isGreaterThanOrEqualTo(250_000_000L);
        try (IdTable table = IdTable.open(file)) {
            assertThat(table.capacity()).isEqualTo(1 << 16);
            assertThat(table.count()).isZero();
        }
    }

    @Test
    void aPacedMergeWritesItsStepsNoFasterThanThePaceAndKeepsEveryEntry() throws Exception {
        Path source = dir.resolve("000001" + IdTable.SUFFIX);
        IdTable.create(source, 12, 7, 1, () -> false, WritePace.UNPACED);
        try (IdTable table = IdTable.open(source)) {
            for (long i = 1; i <= 100; i++) {
                table.put(-table.find(i, i * 31, 4) - 1, i, i * 31, 4, i);
            }
            Path merged = dir.resolve("000002" + IdTable.SUFFIX);
            long started = System.nanoTime();
            // One merge step of 2^16 slots (2 MiB), written as four forced slices at 8 MiB/s.
            assertThat(IdTableMerge.merge(IdTableMerge.Spec.of(merged, 16, 7, 1, List.of(table))
                    .paced(new WritePace(8 << 20, () -> false)))).isEqualTo(100);
            assertThat(System.nanoTime() - started).isGreaterThanOrEqualTo(250_000_000L);
            try (IdTable result = IdTable.open(merged)) {
                for (long i = 1; i <= 100; i++) {
                    assertThat(result.find(i, i * 31, 4)).as("id %d", i).isNotNegative();
                }
                assertThat(result.find(1000, 1, 4)).as("an id never put").isNegative();
            }
        }
    }
}
