package org.xdmedge.store.ids;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
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
    void aMergeHoldsEveryEntryOfItsSourcesOnceWrittenInOrderWhateverTheSizes() throws Exception {
        long seed = 0x5eedL;
        Random random = new Random(11);
        // target slot bits, largest step bits: one step; many steps over larger sources; steps finer
        // than the smallest source's slots (several steps read one stretch); a table 70% full, so
        // runs cross steps and the last one wraps to the start.
        int[][] cases = {{12, 18}, {14, 10}, {16, 4}, {MIN_BITS, 4}, {MIN_BITS, 18}};
        int n = 0;
        for (int[] c : cases) {
            int targetBits = c[0];
            List<IdTable> sources = new ArrayList<>();
            Map<Key, Long> model = new HashMap<>();
            long room = (long) (0.7 * (1L << targetBits));
            try {
                int[] sourceBits = {MIN_BITS, MIN_BITS + 1, MIN_BITS + 3};
                long seq = 0;
                for (int b : sourceBits) {
                    Path file = dir.resolve("src-" + n++ + IdTable.SUFFIX);
                    IdTable.create(file, b, seed, n, () -> false, WritePace.UNPACED);
                    IdTable source = IdTable.open(file);
                    sources.add(source);
                    long fill = Math.min(source.capacity() / 2, room / sourceBits.length);
                    for (long i = 0; i < fill; i++) {
                        Key k = new Key(random.nextLong(), random.nextLong(), random.nextInt(4) * 4L);
                        source.put(-source.find(k.hi(), k.lo(), k.key()) - 1, k.hi(), k.lo(), k.key(), ++seq);
                        model.put(k, seq);
                    }
                }
                // An entry in two sources (as when a crash left a merge's sources beside it) is kept once.
                IdTable first = sources.get(0);
                IdTable last = sources.get(2);
                for (Map.Entry<Key, Long> e : model.entrySet()) {
                    Key k = e.getKey();
                    if (first.find(k.hi(), k.lo(), k.key()) >= 0 && last.count() < last.capacity() / 2 + 50) {
                        last.put(-last.find(k.hi(), k.lo(), k.key()) - 1, k.hi(), k.lo(), k.key(), e.getValue());
                    }
                }
                Path merged = dir.resolve("merged-" + n + IdTable.SUFFIX);
                long count = IdTableMerge.merge(IdTableMerge.Spec.of(merged, targetBits, seed, 7, sources).steps(c[1]));
                assertThat(count).as("case %s", Arrays.toString(c)).isEqualTo(model.size());
                try (IdTable table = IdTable.open(merged)) {
                    assertThat(table.merged()).isTrue();
                    assertThat(table.order()).isEqualTo(7);
                    assertThat(table.count()).isEqualTo(model.size());
                    for (Map.Entry<Key, Long> e : model.entrySet()) {
                        Key k = e.getKey();
                        long slot = table.find(k.hi(), k.lo(), k.key());
                        assertThat(slot).as("case %s, %s", Arrays.toString(c), k).isNotNegative();
                        assertThat(table.seq(slot)).isEqualTo(e.getValue());
                    }
                    long[] full = {0};
                    table.forEachAbove(0, slot -> full[0]++);
                    assertThat(full[0]).as("no entry twice").isEqualTo(model.size());
                    assertThat(table.find(random.nextLong(), random.nextLong(), 4)).isNegative();
                }
            } finally {
                for (IdTable source : sources) {
                    source.close();
                }
            }
        }
    }

    private static final int MIN_BITS = IdTable.MIN_SLOT_BITS;

    @Test
    void aMergeLeavesOutTheEntriesOfDeletedEvents() throws Exception {
        Path source = dir.resolve("000001" + IdTable.SUFFIX);
        IdTable.create(source, 12, 5, 1, () -> false, WritePace.UNPACED);
        Random random = new Random(6);
        List<Key> keys = new ArrayList<>();
        long[] deleted = new long[100];
        for (int i = 0; i < deleted.length; i++) {
            deleted[i] = 7L * i + 3; // every seventh from 3
        }
        try (IdTable table = IdTable.open(source)) {
            for (int seq = 1; seq <= 1000; seq++) {
                Key k = new Key(random.nextLong(), random.nextLong(), 4);
                table.put(-table.find(k.hi(), k.lo(), k.key()) - 1, k.hi(), k.lo(), k.key(), seq);
                keys.add(k);
            }
            Path merged = dir.resolve("000002" + IdTable.SUFFIX);
            assertThat(IdTableMerge.merge(IdTableMerge.Spec.of(merged, 12, 5, 1, List.of(table)).without(deleted)
                    .steps(8))).isEqualTo(900);
            try (IdTable result = IdTable.open(merged)) {
                for (int i = 0; i < keys.size(); i++) {
                    Key k = keys.get(i);
                    long seq = i + 1;
                    boolean gone = seq % 7 == 3 && seq <= 7 * 99 + 3;
                    assertThat(result.find(k.hi(), k.lo(), k.key()) >= 0).as("seq %d", seq).isEqualTo(!gone);
                }
            }
        }
    }

    @Test
    void aMergeLeavesOutTheEntriesOfEventsRetentionDeleted() throws Exception {
        Path source = dir.resolve("000001" + IdTable.SUFFIX);
        IdTable.create(source, 12, 5, 1, () -> false, WritePace.UNPACED);
        Random random = new Random(5);
        List<Key> keys = new ArrayList<>();
        try (IdTable table = IdTable.open(source)) {
            for (int seq = 1; seq <= 1000; seq++) {
                Key k = new Key(random.nextLong(), random.nextLong(), 4);
                table.put(-table.find(k.hi(), k.lo(), k.key()) - 1, k.hi(), k.lo(), k.key(), seq);
                keys.add(k);
            }
            Path merged = dir.resolve("000002" + IdTable.SUFFIX);
            assertThat(IdTableMerge.merge(IdTableMerge.Spec.of(merged, 12, 5, 1, List.of(table)).from(401).steps(8))).isEqualTo(600);
            try (IdTable result = IdTable.open(merged)) {
                for (int i = 0; i < keys.size(); i++) {
                    Key k = keys.get(i);
                    assertThat(result.find(k.hi(), k.lo(), k.key()) >= 0).as("seq %d", i + 1).isEqualTo(i + 1 >= 401);
                }
            }
        }
    }

    @Test
    void aMergeIsGivenUpWhenAskedAndLeavesNoFile() throws Exception {
        Path source = dir.resolve("000001" + IdTable.SUFFIX);
        IdTable.create(source, 12, 1, 1, () -> false, WritePace.UNPACED);
        try (IdTable table = IdTable.open(source)) {
            table.put(-table.find(1, 2, 4) - 1, 1, 2, 4, 1);
            int[] steps = {0};
            assertThatThrownBy(() -> IdTableMerge.merge(IdTableMerge.Spec.of(dir.resolve("000002" + IdTable.SUFFIX), 16, 1, 1,
                    List.of(table)).stoppedBy(() -> ++steps[0] > 2).steps(10))).hasMessageContaining("given up");
            assertThatThrownBy(() -> IdTableMerge.merge(IdTableMerge.Spec.of(dir.resolve("000002" + IdTable.SUFFIX), 16, 2, 1,
                    List.of(table)))).as("sources of another seed").isInstanceOf(IllegalArgumentException.class);
        }
        try (var files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString()).toList()).containsExactly("000001" + IdTable.SUFFIX);
        }
    }

    @Test
    void aTableOfTheEarlierFormatIsDamagedSoTheIndexIsRebuilt() throws Exception {
        Path file = dir.resolve("000001" + IdTable.SUFFIX);
        IdTable.create(file, IdTable.MIN_SLOT_BITS);
        try (var ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).putInt(0, 1), 8); // version 1: homes from a per-table hash
        }
        assertThatThrownBy(() -> IdTable.open(file)).isInstanceOf(IdTable.Damaged.class).hasMessageContaining("earlier format");
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
        try (var ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
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
            assertThat(IdIndexCheckpoints.warm(tables, Long.MAX_VALUE)).isEqualTo(3);
            assertThat(IdIndexCheckpoints.warm(tables, 2 * newestTwo)).isEqualTo(2);
            assertThat(IdIndexCheckpoints.warm(tables, 2 * newestTwo - 2)).as("the second one no longer fits").isEqualTo(1);
            assertThat(IdIndexCheckpoints.warm(tables, tables.get(2).fileBytes())).as("not even the newest fits").isZero();
            // Reading ahead changes nothing in a table.
            tables.get(2).put(-tables.get(2).find(1, 2, 4) - 1, 1, 2, 4, 9);
            IdIndexCheckpoints.warm(tables, Long.MAX_VALUE);
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
