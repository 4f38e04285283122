package org.xdmedge.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The mapped hash table against a HashMap model: claims, undo, removal from the middle of runs, reopening. */
class IdTableTest {
    @TempDir
    Path dir;

    private record Key(long hi, long lo, long key) {}

    @Test
    void findPutUndoAndRemoveAgreeWithAMapAndSurviveReopening() throws Exception {
        Path file = dir.resolve("000001" + IdTable.SUFFIX);
        IdTable.create(file, IdTable.MIN_SLOT_BITS);
        Map<Key, Long> model = new HashMap<>();
        Random random = new Random(7);
        // Keys from a few values each, so equal his, los and datastream keys meet in one table.
        List<Key> universe = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            universe.add(new Key(random.nextInt(40), random.nextInt(40), random.nextInt(3) * 4L));
        }
        long seq = 0;
        try (IdTable table = IdTable.open(file)) {
            for (int round = 0; round < 20_000; round++) {
                Key k = universe.get(random.nextInt(universe.size()));
                int op = random.nextInt(10);
                long slot = table.find(k.hi(), k.lo(), k.key());
                assertThat(slot >= 0).as("found %s", k).isEqualTo(model.containsKey(k));
                if (slot >= 0) {
                    assertThat(table.seq(slot)).isEqualTo(model.get(k));
                }
                if (op < 6 && slot < 0 && model.size() < table.capacity() * 3 / 4) {
                    table.put(-slot - 1, k.hi(), k.lo(), k.key(), ++seq);
                    model.put(k, seq);
                    if (op == 0) { // undone at once, as a failed request's claims are
                        table.clearNewest(-slot - 1);
                        model.remove(k);
                    }
                } else if (op >= 6 && slot >= 0) {
                    table.remove(slot);
                    model.remove(k);
                }
                assertThat(table.count()).isEqualTo(model.size());
            }
            table.force();
        }
        try (IdTable table = IdTable.open(file)) {
            assertThat(table.count()).isEqualTo(model.size());
            for (Key k : universe) {
                long slot = table.find(k.hi(), k.lo(), k.key());
                assertThat(slot >= 0).isEqualTo(model.containsKey(k));
            }
            long half = seq / 2;
            long[] above = {0};
            table.forEachAbove(half, s -> above[0]++);
            assertThat(above[0]).isEqualTo(model.values().stream().filter(v -> v > half).count());
        }
    }

    @Test
    void makingATableIsGivenUpWhenAskedAndLeavesNoFile() throws Exception {
        Path file = dir.resolve("000003" + IdTable.SUFFIX);
        int[] chunks = {0};
        assertThatThrownBy(() -> IdTable.create(file, 22, () -> ++chunks[0] > 3)).hasMessageContaining("given up");
        assertThat(chunks[0]).isEqualTo(4);
        try (var files = Files.list(dir)) {
            assertThat(files.toList()).isEmpty();
        }
    }

    @Test
    void aFileOfTheWrongLengthOrKindIsRefused() throws Exception {
        Path file = dir.resolve("000001" + IdTable.SUFFIX);
        IdTable.create(file, IdTable.MIN_SLOT_BITS);
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(Files.size(file) - 32);
        }
        assertThatThrownBy(() -> IdTable.open(file)).hasMessageContaining("damaged");
        Path other = dir.resolve("000002" + IdTable.SUFFIX);
        Files.write(other, new byte[8192]);
        assertThatThrownBy(() -> IdTable.open(other)).hasMessageContaining("not an event-id table");
    }

    @Test
    void tablesAreReadAheadNewestFirstWhileTheyFitInHalfOfTheMemory() throws Exception {
        List<IdTable> tables = new ArrayList<>();
        try {
            for (int i = 1; i <= 3; i++) {
                Path file = dir.resolve("00000" + i + IdTable.SUFFIX);
                IdTable.create(file, IdTable.MIN_SLOT_BITS + i - 1);
                tables.add(IdTable.open(file));
            }
            long newestTwo = tables.get(2).fileBytes() + tables.get(1).fileBytes();
            assertThat(EventIdIndex.warm(tables, Long.MAX_VALUE)).isEqualTo(3);
            assertThat(EventIdIndex.warm(tables, 2 * newestTwo)).isEqualTo(2);
            assertThat(EventIdIndex.warm(tables, 2 * newestTwo - 2)).as("the second one no longer fits").isEqualTo(1);
            assertThat(EventIdIndex.warm(tables, tables.get(2).fileBytes())).as("not even the newest fits").isZero();
            // Reading ahead changes nothing in a table.
            tables.get(2).put(-tables.get(2).find(1, 2, 4) - 1, 1, 2, 4, 9);
            EventIdIndex.warm(tables, Long.MAX_VALUE);
            assertThat(tables.get(2).seq(tables.get(2).find(1, 2, 4))).isEqualTo(9);
        } finally {
            for (IdTable table : tables) {
                table.close();
            }
        }
    }

    @Test
    void warmingTouchesEveryPageOfTheSlotsOnce() throws Exception {
        Path file = dir.resolve("000004" + IdTable.SUFFIX);
        int slotBits = 20; // 32 MiB of slots: 8192 pages, more than one stride of the first pass
        IdTable.create(file, slotBits);
        try (IdTable table = IdTable.open(file)) {
            long pages = (32L << slotBits) / 4096;
            long expected = 0;
            for (long page = 0; page < pages; page++) {
                int mark = (int) (page % 100) + 1;
                // A slot at the start of each page whose first byte (hi's top byte) is the mark.
                table.put(page * 128, (long) mark << 56, page, 4, page + 1);
                expected += mark;
            }
            assertThat(table.warm()).isEqualTo(expected);
        }
    }
}
