package org.xdmedge.store.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import org.xdmedge.store.DurableFiles;

/**
 * The durable list of deleted events: {@code <data>/privacy/deleted/<name>.seqs}, one file per
 * delete job, each the sequence numbers of the events it deleted. Readers ({@link EventReader})
 * leave these events out from the moment the file exists, before their bytes are rewritten away;
 * the numbers themselves hold nothing personal.
 *
 * <p>File: {@code long magic "XDM-DEL1"}, {@code int n}, {@code n} ascending {@code long}s, a
 * CRC-32C of everything before it. Written whole to {@code .tmp}, forced, renamed, the directory
 * forced: a file is there whole or not at all. A damaged one fails every read instead of
 * silently showing deleted events again.
 */
public final class DeletedEvents {
    public static final String DIRECTORY = "privacy/deleted";
    static final long MAGIC = 0x58444d2d44454c31L; // "XDM-DEL1"
    private static final String SUFFIX = ".seqs";
    static final DeletedEvents NONE = new DeletedEvents(new long[0]);

    private final long[] seqs;

    private DeletedEvents(long[] seqs) {
        this.seqs = seqs;
    }

    public boolean contains(long seq) {
        return seqs.length > 0 && Arrays.binarySearch(seqs, seq) >= 0;
    }

    public boolean isEmpty() {
        return seqs.length == 0;
    }

    public int size() {
        return seqs.length;
    }

    /** Every deleted sequence number, ascending. */
    public long[] seqs() {
        return seqs.clone();
    }

    /** Raised after each list is written, so a reader that keeps the union knows to load it again. */
    static final AtomicLong WRITES = new AtomicLong();

    /** The union of every list under {@code dataDir}. */
    public static DeletedEvents load(Path dataDir) throws IOException {
        Path dir = dataDir.resolve(DIRECTORY);
        if (!Files.isDirectory(dir)) {
            return NONE;
        }
        long[] all = new long[0];
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path file : files) {
                long[] more = read(file);
                long[] merged = Arrays.copyOf(all, all.length + more.length);
                System.arraycopy(more, 0, merged, all.length, more.length);
                all = merged;
            }
        }
        if (all.length == 0) {
            return NONE;
        }
        Arrays.sort(all);
        return new DeletedEvents(Arrays.stream(all).distinct().toArray());
    }

    /** The list one job wrote, or null when it has written none. */
    public static long[] readList(Path dataDir, String name) throws IOException {
        Path file = dataDir.resolve(DIRECTORY).resolve(name + SUFFIX);
        return Files.exists(file) ? read(file) : null;
    }

    /** Writes (or replaces) the list named {@code name} atomically and durably. */
    public static void write(Path dataDir, String name, long[] seqs) throws IOException {
        long[] sorted = Arrays.stream(seqs).sorted().distinct().toArray();
        Path dir = dataDir.resolve(DIRECTORY);
        Files.createDirectories(dir);
        ByteBuffer bytes = ByteBuffer.allocate(8 + 4 + 8 * sorted.length + 4);
        bytes.putLong(MAGIC).putInt(sorted.length);
        for (long seq : sorted) {
            bytes.putLong(seq);
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes.array(), 0, bytes.position());
        bytes.putInt((int) crc.getValue());
        bytes.flip();
        DurableFiles.replace(dir.resolve(name + SUFFIX), bytes);
        WRITES.incrementAndGet();
    }

    private static long[] read(Path file) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file));
        if (bytes.remaining() < 16 || bytes.getLong() != MAGIC) {
            throw new IOException(file + " is not a list of deleted events");
        }
        int n = bytes.getInt();
        if (n < 0 || bytes.remaining() != 8L * n + 4) {
            throw new IOException(file + " is damaged (length)");
        }
        long[] seqs = new long[n];
        for (int i = 0; i < n; i++) {
            seqs[i] = bytes.getLong();
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes.array(), 0, bytes.position());
        if ((int) crc.getValue() != bytes.getInt()) {
            throw new IOException(file + " is damaged (CRC)");
        }
        return seqs;
    }
}
