package org.xdmedge.store.ids;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
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
import java.util.function.LongConsumer;
import org.xdmedge.store.NumberedFiles;

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
 * a table of {@link EventIdIndex}'s older ids is merged from others ({@link IdTableMerge}) and
 * written in order, once, and only read after that. For that, an entry's home slot is the top bits of its
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

    static void checkSlotBits(int slotBits) {
        if (slotBits < MIN_SLOT_BITS || slotBits > MAX_SLOT_BITS) {
            throw new IllegalArgumentException("slot bits " + slotBits);
        }
    }

    private static ByteBuffer header(int slotBits, long seed, long count, long order, long flags) {
        return header(slotBits, seed, count, order, flags, 0, 0, null);
    }

    /** The header of a merged table: its entries' sequence numbers range over {@code [minSeq, maxSeq]}. */
    static ByteBuffer mergedHeader(int slotBits, long seed, long count, long order, long minSeq, long maxSeq,
                                   long[] replaced) {
        return header(slotBits, seed, count, order, FLAG_MERGED | FLAG_SEQ_RANGE, minSeq, maxSeq, replaced);
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

    /** The name of an index's table file of {@code number}. */
    static String fileName(long number) {
        return NumberedFiles.name(number, 6, SUFFIX);
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

    static void writeFully(FileChannel ch, ByteBuffer buffer, long at) throws IOException {
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

    /** Pages between two touches of {@link #warm}'s first pass: 8 MiB, a common read-ahead window. */
    private static final int WARM_STRIDE_PAGES = 2048;

    /**
     * Touches every page of the mapping once, so its pages are in the page cache before claims
     * probe them: on a cold cache each probe of a random page waits for its own read from disk, and
     * a restarted edge serves a trickle of requests until the tables are read. The first pass
     * touches one page in {@value #WARM_STRIDE_PAGES}, so the kernel's read-around brings in the
     * pages between; the later passes find them cached. Not a sequential read nor {@code load()}:
     * on recent Linux kernels those fill the cache with large folios (up to 2 MiB), and a claim
     * then dirties, and the kernel writes back, a whole folio instead of one 4 KiB page.
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

    /** Made by a merge ({@link IdTableMerge}): it takes no claims. */
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

    /** Gives a full slot's entry another sequence number: the id now claims a later event. */
    void setSeq(long slot, long seq) {
        setWord(slot, 3, seq);
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
    void forEachAbove(long afterSeq, LongConsumer each) {
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
    void recount(long afterSeq, LongConsumer each) {
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

    /** Where the stretch of this table's slots for step {@code p} of {@code 2^partBits} starts ({@link IdTableMerge}). */
    long stepStart(long p, int partBits) {
        return slotBits >= partBits ? p << (slotBits - partBits) : p >> (partBits - slotBits);
    }

    /** Word {@code word} (0 hi, 1 lo, 2 key, 3 seq) of {@code slot}. */
    long word(long slot, int word) {
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
        private static final MethodHandle INVOKE_CLEANER = find();

        private static MethodHandle find() {
            try {
                Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
                Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
                theUnsafe.setAccessible(true);
                return MethodHandles.lookup()
                        .findVirtual(unsafeClass, "invokeCleaner", MethodType.methodType(void.class, ByteBuffer.class))
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
