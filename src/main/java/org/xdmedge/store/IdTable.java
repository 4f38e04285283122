package org.xdmedge.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * One generation of the event-id index: an open-addressing hash table (linear probing) in a
 * memory-mapped file, written only by the event writer. A slot is 32 bytes, {@code long hi, lo,
 * key, seq}: the id's 128 bits, its datastream and kind ({@link EventIdIndex}), and the sequence
 * number of the stored event; a slot is empty while its {@code seq} is 0. Slots are 32-byte
 * aligned, so one never straddles a disk sector and a crash leaves each slot either old or new.
 *
 * <p>The file is filled with zeros when it is made (in the background, {@link #create}), so that
 * writing a mapped page never has to allocate a block: a full disk then fails the making with an
 * exception instead of a fault inside a store to the mapping. The zeros are forced a step at a
 * time as they are written (see {@link #FORCE_STEP_BYTES}); the file is renamed into place without
 * a last force, since the table is derived from the event log and one a crash left short is
 * {@link Damaged} and rebuilt.
 *
 * <p>A table that takes claims is made of zeros ({@link #create}) and written through its mapping;
 * a table of {@link EventIdIndex}'s older ids is {@link #merge}d from others and written in
 * order, once, and only read after that. For that, an entry's home slot is the top bits of its
 * {@link #hash} and every table of an index shares one seed: an entry's place in a table is then
 * (but for its run) in the order of its hash, so a merge reads each source front to back and
 * writes the new table front to back.
 *
 * <p>Header (4 KiB): {@code long magic, int version, int slotBits, long seed, long count, long
 * order, long flags}; the seed keys the hash, so clients cannot choose ids that pile onto one run
 * of slots; {@code order} ranks tables by the age of their ids (a merged table takes its newest
 * source's); flag 1 marks a merged table. A merged table lists (flag 8: at 72 an int count, from 80
 * the longs) the numbers of the table files it replaced: its sources, and those their own lists
 * name that were still on disk when it was made. Those are the tables a crash (or a stop past its
 * grace period) may have left beside it, and {@link EventIdIndex} deletes them on opening. An
 * order range cannot name them: a next table made ahead may take claims after one numbered later.
 * (Flag 4, an order range at 64, was written by one build and is not read.)
 */
final class IdTable implements AutoCloseable {
    static final String SUFFIX = ".ids";
    private static final long MAGIC = 0x58444d2d49445431L; // "XDM-IDT1"
    /** 1: a slot's home from the low bits of a per-table hash; 2: from the top bits of an index-wide one. */
    private static final int VERSION = 2;
    private static final long FLAG_MERGED = 1;
    /** The header's {@code minSeq, maxSeq} (at 48 and 56) hold the range of its entries' sequence numbers. */
    private static final long FLAG_SEQ_RANGE = 2;
    /** The header lists the numbers of the table files a merged table replaced (see above). */
    private static final long FLAG_REPLACED = 8;
    static final int HEADER_BYTES = 4096;
    /** A merge that replaced more (a very long chain of crashes) lists none: its leftovers then stay, harmless but for counting twice. */
    static final int MAX_REPLACED = (HEADER_BYTES - 80) / Long.BYTES;
    static final int SLOT_BYTES = 32;
    /** Slots per mapped chunk: a MappedByteBuffer holds at most 2 GiB. */
    private static final int CHUNK_SLOT_BITS = 25;
    private static final int CHUNK_SLOTS = 1 << CHUNK_SLOT_BITS;
    static final int MIN_SLOT_BITS = 10;
    static final int MAX_SLOT_BITS = 30;
    private static final int PAGE_BYTES = 4096;
    /**
     * Tables are forced a step at a time: the event writer's {@code fdatasync} waits for whatever
     * else is in flight to the disk, so one large flush would stall the events' commits behind it.
     */
    static final int FORCE_STEP_BYTES = 512 << 10;
    private static final byte[] ZEROS = new byte[FORCE_STEP_BYTES];

    private final Path file;
    private final FileChannel channel;
    private final MappedByteBuffer header;
    private final MappedByteBuffer[] chunks;
    private final int slotBits;
    private final long mask;
    private final long seed;
    private final long order;
    private final long[] replaced;
    private final boolean merged;
    /** The range of its entries' sequence numbers, once known (from a merged table's header, or counted). */
    private long minSeq = -1;
    private long maxSeq = -1;
    private long count;
    /** Forced since it took its last change ({@link EventIdIndex}'s checkpoints skip it then). */
    private volatile boolean settled;

    private IdTable(Path file, FileChannel channel, int slotBits) throws IOException {
        this.file = file;
        this.channel = channel;
        this.header = channel.map(FileChannel.MapMode.READ_WRITE, 0, HEADER_BYTES);
        long slots = 1L << slotBits;
        this.slotBits = slotBits;
        this.mask = slots - 1;
        int chunkCount = (int) Math.max(1, slots >> CHUNK_SLOT_BITS);
        this.chunks = new MappedByteBuffer[chunkCount];
        long chunkSlots = Math.min(slots, CHUNK_SLOTS);
        for (int i = 0; i < chunkCount; i++) {
            chunks[i] = channel.map(FileChannel.MapMode.READ_WRITE, HEADER_BYTES + i * chunkSlots * SLOT_BYTES,
                    chunkSlots * SLOT_BYTES);
        }
        this.seed = header.getLong(16);
        this.count = header.getLong(24);
        this.order = header.getLong(32);
        this.merged = (header.getLong(40) & FLAG_MERGED) != 0;
        if ((header.getLong(40) & FLAG_SEQ_RANGE) != 0) {
            this.minSeq = header.getLong(48);
            this.maxSeq = header.getLong(56);
        }
        if ((header.getLong(40) & FLAG_REPLACED) != 0) {
            int n = header.getInt(72);
            if (n < 0 || n > MAX_REPLACED) {
                throw new Damaged(file + " lists " + n + " replaced tables");
            }
            this.replaced = new long[n];
            for (int i = 0; i < n; i++) {
                replaced[i] = header.getLong(80 + i * Long.BYTES);
            }
        } else {
            this.replaced = new long[0]; // not merged, or merged by a build that did not list them
        }
    }

    /** A table of its own seed (tests). */
    static void create(Path file, int slotBits) throws IOException {
        create(file, slotBits, new SecureRandom().nextLong(), 0, () -> false, WritePace.UNPACED);
    }

    /** A table of its own seed (tests), given up as {@link #create(Path, int, long, long, BooleanSupplier)} says. */
    static void create(Path file, int slotBits, BooleanSupplier stop) throws IOException {
        create(file, slotBits, new SecureRandom().nextLong(), 0, stop, WritePace.UNPACED);
    }

    /**
     * Makes an empty table of {@code 2^slotBits} slots at {@code file}: zeros written and forced
     * under a temporary name, then renamed into place, so a table file is never half made, each
     * forced step followed by what {@code pace} wants. Gives up (removing what it wrote) as soon
     * as {@code stop} says so.
     */
    static void create(Path file, int slotBits, long seed, long order, BooleanSupplier stop, WritePace pace)
            throws IOException {
        checkSlotBits(slotBits);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            writeZeros(tmp, file, slotBits, seed, order, stop, pace);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp); // a full disk, say: nothing may pile up over retries
            throw e;
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void writeZeros(Path tmp, Path file, int slotBits, long seed, long order, BooleanSupplier stop,
                                   WritePace pace) throws IOException {
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            writeFully(ch, header(slotBits, seed, 0, order, 0), 0);
            long end = fileBytes(1L << slotBits);
            ByteBuffer zeros = ByteBuffer.wrap(ZEROS);
            long stepStarted = System.nanoTime();
            for (long at = HEADER_BYTES; at < end; at += ZEROS.length) {
                if (stop.getAsBoolean()) {
                    throw new IOException("making " + file + " was given up: the index is closing");
                }
                zeros.clear().limit((int) Math.min(ZEROS.length, end - at));
                writeFully(ch, zeros, at);
                ch.force(false);
                pace.stepDone(zeros.limit(), stepStarted);
                stepStarted = System.nanoTime();
            }
        }
    }

    private static void checkSlotBits(int slotBits) {
        if (slotBits < MIN_SLOT_BITS || slotBits > MAX_SLOT_BITS) {
            throw new IllegalArgumentException("slot bits " + slotBits);
        }
    }

    private static ByteBuffer header(int slotBits, long seed, long count, long order, long flags) {
        return header(slotBits, seed, count, order, flags, 0, 0, null);
    }

    private static ByteBuffer header(int slotBits, long seed, long count, long order, long flags, long minSeq, long maxSeq,
                                     long[] replaced) {
        ByteBuffer head = ByteBuffer.allocate(HEADER_BYTES);
        head.putLong(MAGIC).putInt(VERSION).putInt(slotBits).putLong(seed).putLong(count).putLong(order)
                .putLong(replaced == null ? flags : flags | FLAG_REPLACED).putLong(minSeq).putLong(maxSeq);
        if (replaced != null) {
            head.putInt(72, replaced.length);
            for (int i = 0; i < replaced.length; i++) {
                head.putLong(80 + i * Long.BYTES, replaced[i]);
            }
        }
        return head.clear();
    }

    /** Slots per step of a {@link #merge}: 8 MiB of the new table built in memory at a time. */
    static final int MERGE_STEP_SLOT_BITS = 18;

    /**
     * Makes at {@code file} a table of {@code 2^slotBits} slots holding every entry of {@code
     * sources} (which share its {@code seed} and take no changes meanwhile; an entry in several is
     * kept once), written in order with plain writes: no page of it is ever dirtied twice, unlike
     * puts through a mapping, which land on random pages. The table is built a step of {@value
     * #MERGE_STEP_SLOT_BITS} slot bits at a time in memory: for each step, every source is read
     * over the matching stretch of its slots (its entries' homes are in hash order too), and an
     * entry whose run goes past the step's end is carried into the next step; the last step's
     * carries wrap to the table's start, put through a mapping at the end. Forced and renamed into
     * place, the directory forced: the sources may be deleted once this returns.
     *
     * @return the entries it holds
     */
    static long merge(Path file, int slotBits, long seed, long order, List<IdTable> sources, BooleanSupplier stop)
            throws IOException {
        return merge(file, slotBits, seed, order, sources, 0, stop, MERGE_STEP_SLOT_BITS, WritePace.UNPACED);
    }

    /**
     * As {@link #merge(Path, int, long, long, List, BooleanSupplier)}, leaving out the entries of
     * sequence numbers below {@code minSeq} (events retention deleted), in steps of {@code
     * 2^maxStepBits} slots, each forced step followed by what {@code pace} wants.
     */
    static long merge(Path file, int slotBits, long seed, long order, List<IdTable> sources, long minSeq,
                      BooleanSupplier stop, int maxStepBits, WritePace pace) throws IOException {
        checkSlotBits(slotBits);
        for (IdTable source : sources) {
            if (source.seed != seed) {
                throw new IllegalArgumentException(source.file + " has another seed");
            }
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            long count = mergeInto(tmp, slotBits, seed, order, replacedBy(file, sources), sources, minSeq, stop, maxStepBits,
                    pace);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            EventLog.forceDirectory(file.getParent());
            return count;
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp); // a full disk, say: retried later, so nothing may pile up
            throw e;
        }
    }

    /** The name of an index's table file of {@code number}. */
    static String fileName(long number) {
        return NumberedFiles.name(number, 6, SUFFIX);
    }

    /**
     * The numbers of the files a merge of {@code sources} into {@code file} replaces: the sources',
     * and those their lists name that are still there (a crash left them); null if over {@link #MAX_REPLACED}.
     */
    private static long[] replacedBy(Path file, List<IdTable> sources) {
        java.util.TreeSet<Long> numbers = new java.util.TreeSet<>();
        for (IdTable source : sources) {
            if (!NumberedFiles.isNamed(source.file.getFileName().toString(), SUFFIX)) {
                continue; // not a table of an index (tests): nothing on opening looks for it
            }
            numbers.add(NumberedFiles.number(source.file, SUFFIX));
            for (long earlier : source.replaced) {
                if (Files.exists(file.resolveSibling(fileName(earlier)))) {
                    numbers.add(earlier);
                }
            }
        }
        return numbers.size() > MAX_REPLACED ? null : numbers.stream().mapToLong(Long::longValue).toArray();
    }

    private static long mergeInto(Path tmp, int slotBits, long seed, long order, long[] replaced, List<IdTable> sources,
                                  long minSeq,
                                  BooleanSupplier stop, int maxStepBits, WritePace pace) throws IOException {
        int stepBits = Math.min(slotBits, maxStepBits);
        int stepSlots = 1 << stepBits;
        int partBits = slotBits - stepBits; // the hash's top bits that name a step
        long steps = 1L << partBits;
        ByteBuffer step = ByteBuffer.allocate(stepSlots * SLOT_BYTES);
        Entries carried = new Entries();
        Entries carriedNext = new Entries();
        long count = 0;
        long lowest = Long.MAX_VALUE;
        long highest = 0;
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            long unforced = 0;
            long stepStarted = System.nanoTime();
            for (long p = 0; p < steps; p++) {
                if (stop.getAsBoolean()) {
                    throw new IOException("merging into " + tmp + " was given up: the index is closing");
                }
                java.util.Arrays.fill(step.array(), (byte) 0);
                carriedNext.clear();
                for (int i = 0; i < carried.size; i++) { // first: their runs come from the step before
                    count += place(step, stepSlots, 0, carried.get(i, 0), carried.get(i, 1), carried.get(i, 2),
                            carried.get(i, 3), carriedNext);
                }
                for (IdTable source : sources) {
                    long start = source.stepStart(p, partBits);
                    long end = source.stepStart(p + 1, partBits);
                    // The stretch, then on while the run at its end goes on (wrapping at the table's end).
                    for (long at = start; at < end || (at - end <= source.mask && source.seq(at & source.mask) != 0); at++) {
                        long slot = at & source.mask;
                        long seq = source.seq(slot);
                        if (seq == 0 || seq < minSeq) {
                            continue;
                        }
                        long hi = source.word(slot, 0);
                        long lo = source.word(slot, 1);
                        long key = source.word(slot, 2);
                        long hash = hash(hi, lo, key, seed);
                        if (partBits > 0 && hash >>> (64 - partBits) != p) {
                            continue; // a run reaching over from the stretch before, or on into the next
                        }
                        int home = (int) ((hash >>> (64 - slotBits)) & (stepSlots - 1));
                        count += place(step, stepSlots, home, hi, lo, key, seq, carriedNext);
                        lowest = Math.min(lowest, seq); // a carried entry is counted here too, placed or not
                        highest = Math.max(highest, seq);
                    }
                }
                // Written and forced a force step at a time, however large the merge's step.
                for (int from = 0; from < step.capacity(); from += FORCE_STEP_BYTES) {
                    int length = Math.min(FORCE_STEP_BYTES, step.capacity() - from);
                    writeFully(ch, step.clear().position(from).limit(from + length),
                            HEADER_BYTES + p * stepSlots * SLOT_BYTES + from);
                    unforced += length;
                    if (unforced >= FORCE_STEP_BYTES) {
                        ch.force(false);
                        pace.stepDone(unforced, stepStarted); // the step's reading and placing count too
                        unforced = 0;
                        stepStarted = System.nanoTime();
                    }
                }
                Entries swap = carried;
                carried = carriedNext;
                carriedNext = swap;
            }
            writeFully(ch, header(slotBits, seed, count, order, FLAG_MERGED | FLAG_SEQ_RANGE,
                    highest == 0 ? 0 : lowest, highest, replaced), 0);
            ch.force(false);
        }
        if (carried.size > 0) {
            IdTable table = open(tmp);
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
        return count;
    }

    /**
     * Puts an entry into a step of a merge at the first empty slot from {@code home}: 1, or 0 if
     * the step has it already or its run reaches past the step's end (then it is carried).
     */
    private static int place(ByteBuffer step, int stepSlots, int home, long hi, long lo, long key, long seq,
                             Entries carried) {
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
        carried.add(hi, lo, key, seq);
        return 0;
    }

    /** Where the stretch of this table's slots for step {@code p} of {@code 2^partBits} starts. */
    private long stepStart(long p, int partBits) {
        return slotBits >= partBits ? p << (slotBits - partBits) : p >> (partBits - slotBits);
    }

    /** A growable list of entries, four longs each. */
    private static final class Entries {
        private long[] words = new long[64];
        private int size;

        void add(long hi, long lo, long key, long seq) {
            if (size * 4 == words.length) {
                words = java.util.Arrays.copyOf(words, words.length * 2);
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

    static IdTable open(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            ByteBuffer head = ByteBuffer.allocate(16);
            if (ch.read(head, 0) != 16 || head.getLong(0) != MAGIC) {
                throw new Damaged(file + " is not an event-id table");
            }
            if (head.getInt(8) < VERSION) {
                throw new Damaged(file + " is an event-id table of an earlier format (" + head.getInt(8) + ")");
            }
            if (head.getInt(8) != VERSION) {
                throw new IOException(file + " is an event-id table of version " + head.getInt(8)
                        + ", from a newer xdm-edge; this one reads version " + VERSION);
            }
            int slotBits = head.getInt(12);
            if (slotBits < MIN_SLOT_BITS || slotBits > MAX_SLOT_BITS
                    || ch.size() != fileBytes(1L << slotBits)) {
                throw new Damaged(file + " is damaged: its length does not match its " + slotBits + " slot bits");
            }
            return new IdTable(file, ch, slotBits);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** A table file that is not whole: the index is rebuilt from the log. */
    static final class Damaged extends IOException {
        Damaged(String message) {
            super(message);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buffer, long at) throws IOException {
        while (buffer.hasRemaining()) {
            at += ch.write(buffer, at);
        }
    }

    Path file() {
        return file;
    }

    /** The file's length: its header and every slot. */
    long fileBytes() {
        return fileBytes(capacity());
    }

    private static long fileBytes(long slots) {
        return HEADER_BYTES + slots * SLOT_BYTES;
    }

    /** Pages between two touches of {@link #warm}'s first pass: 8 MiB, the bench machine's read-ahead. */
    private static final int WARM_STRIDE_PAGES = 2048;

    /**
     * Touches every page of the mapping once, so its pages are in the page cache before claims
     * probe them: on a cold cache each probe of a random page waited for its own read from disk (a
     * restarted edge on 1.3 GB of tables served under 15 requests/s for ~20 s). The first pass
     * touches one page in {@value #WARM_STRIDE_PAGES}, so the kernel's read-around brings in the
     * pages between; the later passes find them cached. Not a sequential read nor {@code load()}:
     * on Linux 6.18 those fill the cache with large folios (up to 2 MiB), and a claim then
     * dirtied, and the kernel wrote back, a whole folio: ~1.9 MB per single-event request instead of ~10 KB
     * (docs/PERFORMANCE.md, ninth round).
     *
     * @return a sum of the bytes read, so the reads are not optimized away
     */
    long warm() {
        long sum = 0;
        for (MappedByteBuffer chunk : chunks) {
            int pages = chunk.capacity() / PAGE_BYTES;
            for (int start = 0; start < Math.min(WARM_STRIDE_PAGES, pages); start++) {
                for (int page = start; page < pages; page += WARM_STRIDE_PAGES) {
                    sum += chunk.get(page * PAGE_BYTES);
                }
            }
        }
        return sum;
    }

    long capacity() {
        return mask + 1;
    }

    int slotBits() {
        return slotBits;
    }

    long seed() {
        return seed;
    }

    /** The age of its ids among the index's tables: higher is newer. */
    long order() {
        return order;
    }

    /** The numbers of the table files a merged one replaced (see the class comment); none if not merged or not listed. */
    long[] replaced() {
        return replaced.clone();
    }

    /**
     * The lowest and highest sequence numbers of its entries ({0, 0} when empty): from a merged
     * table's header, else counted once (a sealed table that took claims, at most 64 MiB, takes
     * no more). Only for tables that take no more claims.
     */
    long[] seqRange() {
        if (maxSeq < 0) {
            long[] range = {Long.MAX_VALUE, 0};
            forEachAbove(0, slot -> {
                range[0] = Math.min(range[0], seq(slot));
                range[1] = Math.max(range[1], seq(slot));
            });
            minSeq = range[1] == 0 ? 0 : range[0];
            maxSeq = range[1];
        }
        return new long[] {minSeq, maxSeq};
    }

    /** The entries whose sequence number is {@code minSeq} or above. */
    long countFrom(long minSeq) {
        long[] n = {0};
        forEachAbove(minSeq - 1, slot -> n[0]++);
        return n[0];
    }

    /** Whether {@link #seqRange} is known without counting. */
    boolean seqRangeKnown() {
        return maxSeq >= 0;
    }

    /** Made by {@link #merge}: it takes no claims. */
    boolean merged() {
        return merged;
    }

    boolean settled() {
        return settled;
    }

    void settled(boolean settled) {
        this.settled = settled;
    }

    /**
     * The 64-bit hash of an entry under an index's {@code seed}; an entry's home slot in a table
     * of {@code 2^b} slots is its top {@code b} bits.
     */
    static long hash(long hi, long lo, long key, long seed) {
        long x = hi ^ Long.rotateLeft(lo, 29) ^ (key * 0x9E3779B97F4A7C15L) ^ seed;
        x = (x ^ (x >>> 33)) * 0xFF51AFD7ED558CCDL;
        x = (x ^ (x >>> 33)) * 0xC4CEB9FE1A85EC53L;
        return x ^ (x >>> 33);
    }

    long count() {
        return count;
    }

    /** The slot where {@code (hi, lo, key)} is, or the negative of (the empty slot where it would go, plus one). */
    long find(long hi, long lo, long key) {
        return find(hash(hi, lo, key, seed), hi, lo, key);
    }

    /** As {@link #find(long, long, long)}, given the entry's {@link #hash} under this table's seed. */
    long find(long hash, long hi, long lo, long key) {
        long slot = hash >>> (64 - slotBits);
        for (long probes = 0; probes <= mask; probes++) {
            long seq = seq(slot);
            if (seq == 0) {
                return -slot - 1;
            }
            if (word(slot, 0) == hi && word(slot, 1) == lo && word(slot, 2) == key) {
                return slot;
            }
            slot = (slot + 1) & mask;
        }
        // The index never fills a table past three quarters: only a damaged file gets here.
        throw new IllegalStateException(file + " has no empty slot: the file is damaged");
    }

    /** Fills the empty slot {@link #find} named; {@code seq} last, since it marks the slot full. */
    void put(long emptySlot, long hi, long lo, long key, long seq) {
        setWord(emptySlot, 0, hi);
        setWord(emptySlot, 1, lo);
        setWord(emptySlot, 2, key);
        setWord(emptySlot, 3, seq);
        count++;
    }

    /**
     * Empties a slot filled by the latest {@link #put}s, undone newest first: the table is then as
     * it was before them, so no other entry has to move (unlike {@link #remove}).
     */
    void clearNewest(long slot) {
        setWord(slot, 3, 0);
        count--;
    }

    /** Removes the entry in {@code slot}, moving later entries of its run back so every entry stays findable. */
    void remove(long slot) {
        long hole = slot;
        long next = (hole + 1) & mask;
        while (seq(next) != 0) {
            long home = home(word(next, 0), word(next, 1), word(next, 2));
            // The entry at `next` may fill the hole unless its home lies cyclically in (hole, next].
            boolean homeAfterHole = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
            if (!homeAfterHole) {
                for (int w = 0; w < 4; w++) {
                    setWord(hole, w, word(next, w));
                }
                hole = next;
            }
            next = (next + 1) & mask;
        }
        setWord(hole, 3, 0);
        count--;
    }

    /** The {@code hi, lo, key} of a full slot. */
    long[] key(long slot) {
        return new long[] {word(slot, 0), word(slot, 1), word(slot, 2)};
    }

    long seq(long slot) {
        return word(slot, 3);
    }

    /** Calls {@code each} with every full slot whose sequence number is above {@code afterSeq}. */
    void forEachAbove(long afterSeq, java.util.function.LongConsumer each) {
        for (long slot = 0; slot <= mask; slot++) {
            if (seq(slot) > afterSeq) {
                each.accept(slot);
            }
        }
    }

    /**
     * Counts the full slots again (after a crash the header's count may be stale) and, in the same
     * pass, calls {@code each} with every full slot whose sequence number is above {@code afterSeq}.
     */
    void recount(long afterSeq, java.util.function.LongConsumer each) {
        long n = 0;
        for (long slot = 0; slot <= mask; slot++) {
            long seq = seq(slot);
            if (seq != 0) {
                n++;
                if (seq > afterSeq) {
                    each.accept(slot);
                }
            }
        }
        count = n;
    }

    /** Writes the count into the header and forces every changed page of the file to disk, a step at a time. */
    void force() {
        force(System.nanoTime() + Long.MAX_VALUE / 2, WritePace.UNPACED);
    }

    /**
     * As {@link #force()}, a step at a time, each followed by what {@code pace} wants; stopping
     * between two steps once {@code deadlineNanos} passed: false then.
     */
    boolean force(long deadlineNanos, WritePace pace) {
        header.putLong(24, count);
        for (MappedByteBuffer chunk : chunks) {
            for (int at = 0; at < chunk.capacity(); at += FORCE_STEP_BYTES) {
                if (deadlineNanos - System.nanoTime() < 0) {
                    return false;
                }
                long started = System.nanoTime();
                int length = Math.min(FORCE_STEP_BYTES, chunk.capacity() - at);
                chunk.force(at, length);
                pace.stepDone(length, started);
            }
        }
        header.force();
        return true;
    }

    private long home(long hi, long lo, long key) {
        return hash(hi, lo, key, seed) >>> (64 - slotBits);
    }

    private long word(long slot, int word) {
        return chunks[(int) (slot >>> CHUNK_SLOT_BITS)].getLong((int) (slot & (CHUNK_SLOTS - 1)) * SLOT_BYTES + word * 8);
    }

    private void setWord(long slot, int word, long value) {
        chunks[(int) (slot >>> CHUNK_SLOT_BITS)].putLong((int) (slot & (CHUNK_SLOTS - 1)) * SLOT_BYTES + word * 8, value);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    /**
     * Closes the file and unmaps it now rather than when the collector finds the buffers: a
     * deleted table's disk space and memory come back only once it is unmapped. Nothing may read
     * the table after this (a read would crash the JVM): {@link EventIdIndex} calls it only once the
     * writer has committed since it stopped looking at the table.
     */
    void unmap() throws IOException {
        close();
        Unmapper.unmap(header);
        for (MappedByteBuffer chunk : chunks) {
            Unmapper.unmap(chunk);
        }
    }

    /** Unmaps the table and deletes its file (its disk space comes back once both are done). */
    void delete() throws IOException {
        unmap();
        Files.deleteIfExists(file);
    }

    /** {@code sun.misc.Unsafe.invokeCleaner}, where the JDK has it; else the collector unmaps. */
    private static final class Unmapper {
        private static final java.lang.invoke.MethodHandle INVOKE_CLEANER = find();

        private static java.lang.invoke.MethodHandle find() {
            try {
                Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
                java.lang.reflect.Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
                theUnsafe.setAccessible(true);
                return java.lang.invoke.MethodHandles.lookup()
                        .findVirtual(unsafeClass, "invokeCleaner", java.lang.invoke.MethodType.methodType(void.class, ByteBuffer.class))
                        .bindTo(theUnsafe.get(null));
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }

        static void unmap(MappedByteBuffer buffer) {
            if (INVOKE_CLEANER != null) {
                try {
                    INVOKE_CLEANER.invokeExact((ByteBuffer) buffer);
                } catch (Throwable e) {
                    // Left to the collector.
                }
            }
        }
    }
}
