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
 * <p>Header (4 KiB): {@code long magic, int version, int slotBits, long seed, long count}; the
 * seed keys the slot hash, so clients cannot choose ids that pile onto one run of slots.
 */
final class IdTable implements AutoCloseable {
    static final String SUFFIX = ".ids";
    private static final long MAGIC = 0x58444d2d49445431L; // "XDM-IDT1"
    private static final int VERSION = 1;
    static final int HEADER_BYTES = 4096;
    static final int SLOT_BYTES = 32;
    /** Slots per mapped chunk: a MappedByteBuffer holds at most 2 GiB. */
    private static final int CHUNK_SLOT_BITS = 25;
    private static final int CHUNK_SLOTS = 1 << CHUNK_SLOT_BITS;
    static final int MIN_SLOT_BITS = 10;
    static final int MAX_SLOT_BITS = 30;
    private static final byte[] ZEROS = new byte[1 << 20];
    private static final int PAGE_BYTES = 4096;
    /**
     * Tables are forced a step at a time: the event writer's {@code fdatasync} waits for whatever
     * else is in flight to the disk, so one large flush would stall the events' commits behind it.
     */
    static final int FORCE_STEP_BYTES = 2 << 20;

    private final Path file;
    private final FileChannel channel;
    private final MappedByteBuffer header;
    private final MappedByteBuffer[] chunks;
    private final long mask;
    private final long seed;
    private long count;

    private IdTable(Path file, FileChannel channel, int slotBits) throws IOException {
        this.file = file;
        this.channel = channel;
        this.header = channel.map(FileChannel.MapMode.READ_WRITE, 0, HEADER_BYTES);
        long slots = 1L << slotBits;
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
    }

    /**
     * Makes a table of {@code 2^slotBits} slots at {@code file}: zeros written and forced under a
     * temporary name, then renamed into place, so a table file is never half made.
     */
    static void create(Path file, int slotBits) throws IOException {
        create(file, slotBits, () -> false);
    }

    /** As {@link #create(Path, int)}; gives up (removing what it wrote) as soon as {@code stop} says so. */
    static void create(Path file, int slotBits, java.util.function.BooleanSupplier stop) throws IOException {
        if (slotBits < MIN_SLOT_BITS || slotBits > MAX_SLOT_BITS) {
            throw new IllegalArgumentException("slot bits " + slotBits);
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer head = ByteBuffer.allocate(HEADER_BYTES);
            head.putLong(MAGIC).putInt(VERSION).putInt(slotBits).putLong(new SecureRandom().nextLong()).putLong(0);
            head.clear();
            writeFully(ch, head, 0);
            long end = fileBytes(1L << slotBits);
            ByteBuffer zeros = ByteBuffer.wrap(ZEROS);
            for (long at = HEADER_BYTES; at < end; at += ZEROS.length) {
                if (stop.getAsBoolean()) {
                    ch.close();
                    Files.deleteIfExists(tmp);
                    throw new IOException("making " + file + " was given up: the index is closing");
                }
                zeros.clear().limit((int) Math.min(ZEROS.length, end - at));
                writeFully(ch, zeros, at);
                if ((at - HEADER_BYTES + ZEROS.length) % FORCE_STEP_BYTES == 0) {
                    ch.force(false);
                }
            }
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    }

    static IdTable open(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            ByteBuffer head = ByteBuffer.allocate(16);
            if (ch.read(head, 0) != 16 || head.getLong(0) != MAGIC) {
                throw new Damaged(file + " is not an event-id table");
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

    long count() {
        return count;
    }

    /** The slot where {@code (hi, lo, key)} is, or the negative of (the empty slot where it would go, plus one). */
    long find(long hi, long lo, long key) {
        long slot = home(hi, lo, key);
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
        force(System.nanoTime() + Long.MAX_VALUE / 2);
    }

    /** As {@link #force()}, stopping between two steps once {@code deadlineNanos} passed: false then. */
    boolean force(long deadlineNanos) {
        header.putLong(24, count);
        for (MappedByteBuffer chunk : chunks) {
            for (int at = 0; at < chunk.capacity(); at += FORCE_STEP_BYTES) {
                if (deadlineNanos - System.nanoTime() < 0) {
                    return false;
                }
                chunk.force(at, Math.min(FORCE_STEP_BYTES, chunk.capacity() - at));
            }
        }
        header.force();
        return true;
    }

    private long home(long hi, long lo, long key) {
        long x = hi ^ Long.rotateLeft(lo, 29) ^ (key * 0x9E3779B97F4A7C15L) ^ seed;
        x = (x ^ (x >>> 33)) * 0xFF51AFD7ED558CCDL;
        x = (x ^ (x >>> 33)) * 0xC4CEB9FE1A85EC53L;
        return (x ^ (x >>> 33)) & mask;
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
}
