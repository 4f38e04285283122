package org.xdmedge.store.ids;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import org.xdmedge.store.NumberedFiles;

/**
 * One merge of {@link IdTable}s into a new table, written in order with plain writes: no page of
 * it is ever dirtied twice, unlike puts through a mapping, which land on random pages.
 *
 * <p>How: an entry's home slot is the top bits of its {@link IdTable#hash}, and the sources share
 * the new table's seed, so each source's entries lie (but for their runs) in hash order. The new
 * table is built a step of {@code 2^maxStepBits} slots at a time in memory: for each step, every
 * source is read over the matching stretch of its slots, and an entry whose run goes past the
 * step's end is carried into the next step; the last step's carries wrap to the table's start and
 * are put through a mapping at the end. Written under a temporary name, forced a {@link
 * IdTable#FORCE_STEP_BYTES} step at a time (each followed by what the pace wants), renamed into
 * place and the directory forced: the sources may be deleted once {@link #merge} returns.
 *
 * <p>Invariants: the sources take no changes meanwhile; an entry in several is kept once; entries
 * below {@link Spec#minSeq} (events retention deleted) and those of {@link Spec#deleted} events
 * (privacy jobs) are left out. The header lists the table files it replaces ({@link IdTable#replaced}).
 *
 * <p>Threads: the caller's (the index's merger thread); it gives up between steps once {@link
 * Spec#stop} says so, deleting what it wrote.
 */
final class IdTableMerge {
    /** Slots per step of a merge: 8 MiB of the new table built in memory at a time. */
    static final int MERGE_STEP_SLOT_BITS = 18;
    private static final int SLOT_BYTES = IdTable.SLOT_BYTES;

    /**
     * What to merge: into {@code file}, a table of {@code 2^slotBits} slots of {@code seed} and
     * {@code order}, every entry of {@code sources} of sequence number {@code minSeq} or above,
     * in steps of {@code 2^maxStepBits} slots, given up once {@code stop} says so, paced by {@code
     * pace}.
     */
    record Spec(Path file, int slotBits, long seed, long order, List<IdTable> sources, long minSeq,
                BooleanSupplier stop, int maxStepBits, WritePace pace, long[] deleted) {
        /** Every entry, in {@value #MERGE_STEP_SLOT_BITS}-bit steps, never given up, unpaced. */
        static Spec of(Path file, int slotBits, long seed, long order, List<IdTable> sources) {
            return new Spec(file, slotBits, seed, order, sources, 0, () -> false, MERGE_STEP_SLOT_BITS,
                    WritePace.UNPACED, new long[0]);
        }

        Spec from(long minSeq) {
            return new Spec(file, slotBits, seed, order, sources, minSeq, stop, maxStepBits, pace, deleted);
        }

        Spec stoppedBy(BooleanSupplier stop) {
            return new Spec(file, slotBits, seed, order, sources, minSeq, stop, maxStepBits, pace, deleted);
        }

        Spec steps(int maxStepBits) {
            return new Spec(file, slotBits, seed, order, sources, minSeq, stop, maxStepBits, pace, deleted);
        }

        /** Leaves out the entries of these (ascending) sequence numbers: deleted events. */
        Spec without(long[] deleted) {
            return new Spec(file, slotBits, seed, order, sources, minSeq, stop, maxStepBits, pace, deleted);
        }

        Spec paced(WritePace pace) {
            return new Spec(file, slotBits, seed, order, sources, minSeq, stop, maxStepBits, pace, deleted);
        }
    }

    private final Spec spec;
    private final Path tmp;
    private final int stepBits;
    private final int stepSlots;
    /** The hash's top bits that name a step. */
    private final int partBits;
    private final ByteBuffer step;
    private Entries carried = new Entries();
    private Entries carriedNext = new Entries();
    private long count;
    private long lowest = Long.MAX_VALUE;
    private long highest;

    private IdTableMerge(Spec spec, Path tmp) {
        this.spec = spec;
        this.tmp = tmp;
        this.stepBits = Math.min(spec.slotBits(), spec.maxStepBits());
        this.stepSlots = 1 << stepBits;
        this.partBits = spec.slotBits() - stepBits;
        this.step = ByteBuffer.allocate(stepSlots * SLOT_BYTES);
    }

    /**
     * Makes the table {@code spec} describes (see the class comment).
     *
     * @return the entries it holds
     */
    static long merge(Spec spec) throws IOException {
        IdTable.checkSlotBits(spec.slotBits());
        for (IdTable source : spec.sources()) {
            if (source.seed() != spec.seed()) {
                throw new IllegalArgumentException(source.file() + " has another seed");
            }
        }
        Path file = spec.file();
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            long count = new IdTableMerge(spec, tmp).run(replacedBy(file, spec.sources()));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            NumberedFiles.forceDirectory(file.getParent());
            return count;
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp); // a full disk, say: retried later, so nothing may pile up
            throw e;
        }
    }

    /**
     * The numbers of the files a merge of {@code sources} into {@code file} replaces: the sources',
     * and those their lists name that are still there (a crash left them); null if over {@link
     * IdTable#MAX_REPLACED}.
     */
    private static long[] replacedBy(Path file, List<IdTable> sources) {
        TreeSet<Long> numbers = new TreeSet<>();
        for (IdTable source : sources) {
            if (!NumberedFiles.isNamed(source.file().getFileName().toString(), IdTable.SUFFIX)) {
                continue; // not a table of an index (tests): nothing on opening looks for it
            }
            numbers.add(NumberedFiles.number(source.file(), IdTable.SUFFIX));
            for (long earlier : source.replaced()) {
                if (Files.exists(file.resolveSibling(IdTable.fileName(earlier)))) {
                    numbers.add(earlier);
                }
            }
        }
        return numbers.size() > IdTable.MAX_REPLACED ? null : numbers.stream().mapToLong(Long::longValue).toArray();
    }

    private long run(long[] replaced) throws IOException {
        long steps = 1L << partBits;
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            long unforced = 0;
            long stepStarted = System.nanoTime();
            for (long p = 0; p < steps; p++) {
                if (spec.stop().getAsBoolean()) {
                    throw new IOException("merging into " + tmp + " was given up: the index is closing");
                }
                fillStep(p);
                // Written and forced a force step at a time, however large the merge's step.
                for (int from = 0; from < step.capacity(); from += IdTable.FORCE_STEP_BYTES) {
                    int length = Math.min(IdTable.FORCE_STEP_BYTES, step.capacity() - from);
                    IdTable.writeFully(ch, step.clear().position(from).limit(from + length),
                            IdTable.HEADER_BYTES + p * stepSlots * SLOT_BYTES + from);
                    unforced += length;
                    if (unforced >= IdTable.FORCE_STEP_BYTES) {
                        ch.force(false);
                        spec.pace().stepDone(unforced, stepStarted); // the step's reading and placing count too
                        unforced = 0;
                        stepStarted = System.nanoTime();
                    }
                }
                Entries swap = carried;
                carried = carriedNext;
                carriedNext = swap;
            }
            IdTable.writeFully(ch, IdTable.mergedHeader(spec.slotBits(), spec.seed(), count, spec.order(),
                    highest == 0 ? 0 : lowest, highest, replaced), 0);
            ch.force(false);
        }
        if (carried.size > 0) {
            putWrapped();
        }
        return count;
    }

    /** Builds step {@code p} in memory: the entries carried from the step before, then each source's stretch. */
    private void fillStep(long p) {
        Arrays.fill(step.array(), (byte) 0);
        carriedNext.clear();
        for (int i = 0; i < carried.size; i++) { // first: their runs come from the step before
            count += place(0, carried.get(i, 0), carried.get(i, 1), carried.get(i, 2), carried.get(i, 3));
        }
        for (IdTable source : spec.sources()) {
            long start = source.stepStart(p, partBits);
            long end = source.stepStart(p + 1, partBits);
            long mask = source.capacity() - 1;
            // The stretch, then on while the run at its end goes on (wrapping at the table's end).
            for (long at = start; at < end || (at - end <= mask && source.seq(at & mask) != 0); at++) {
                long slot = at & mask;
                long seq = source.seq(slot);
                if (seq == 0 || seq < spec.minSeq() || IdTableSet.isDeleted(spec.deleted(), seq)) {
                    continue;
                }
                long hi = source.word(slot, 0);
                long lo = source.word(slot, 1);
                long key = source.word(slot, 2);
                long hash = IdTable.hash(hi, lo, key, spec.seed());
                if (partBits > 0 && hash >>> (64 - partBits) != p) {
                    continue; // a run reaching over from the stretch before, or on into the next
                }
                int home = (int) ((hash >>> (64 - spec.slotBits())) & (stepSlots - 1));
                count += place(home, hi, lo, key, seq);
                lowest = Math.min(lowest, seq); // a carried entry is counted here too, placed or not
                highest = Math.max(highest, seq);
            }
        }
    }

    /** The last step's carries wrap to the table's start: put through a mapping into the written table. */
    private void putWrapped() throws IOException {
        IdTable table = IdTable.open(tmp);
        try {
            for (int i = 0; i < carried.size; i++) {
                long hi = carried.get(i, 0);
                long lo = carried.get(i, 1);
                long key = carried.get(i, 2);
                long slot = table.find(hi, lo, key);
                if (slot < 0) {
                    table.put(-slot - 1, hi, lo, key, carried.get(i, 3));
                }
            }
            table.force();
            count = table.count();
        } finally {
            table.unmap(); // now: a mapping the collector has yet to find would hold the file's space once deleted
        }
    }

    /**
     * Puts an entry into the step at the first empty slot from {@code home}: 1, or 0 if the step
     * has it already or its run reaches past the step's end (then it is carried).
     */
    private int place(int home, long hi, long lo, long key, long seq) {
        for (int slot = home; slot < stepSlots; slot++) {
            int at = slot * SLOT_BYTES;
            if (step.getLong(at + 24) == 0) {
                step.putLong(at, hi).putLong(at + 8, lo).putLong(at + 16, key).putLong(at + 24, seq);
                return 1;
            }
            if (step.getLong(at) == hi && step.getLong(at + 8) == lo && step.getLong(at + 16) == key) {
                return 0;
            }
        }
        carriedNext.add(hi, lo, key, seq);
        return 0;
    }

    /** A growable list of entries, four longs each. */
    private static final class Entries {
        private long[] words = new long[64];
        private int size;

        void add(long hi, long lo, long key, long seq) {
            if (size * 4 == words.length) {
                words = Arrays.copyOf(words, words.length * 2);
            }
            words[size * 4] = hi;
            words[size * 4 + 1] = lo;
            words[size * 4 + 2] = key;
            words[size * 4 + 3] = seq;
            size++;
        }

        long get(int i, int word) {
            return words[i * 4 + word];
        }

        void clear() {
            size = 0;
        }
    }
}
