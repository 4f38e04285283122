package org.xdmedge.forwarding;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.store.NumberedFiles;

/**
 * A destination's dead letters, {@code <data>/forwarding/<id>.deadletters}: JSON Lines, one per
 * event, {@code {"destination", "reason", "status", "error", "attempts", "deadLetteredAt", "seq",
 * "event": <the event as export writes it>}}. Each append opens, writes and forces the file, so a
 * replay may rename it aside while the edge runs: the next dead letter starts a new file.
 *
 * <p>The edge and the {@code dead-letters replay} command are different processes, so they agree
 * through an operating-system lock on {@code <id>.deadletters.lock}: its first byte is held by each
 * append and by the replay's rename, so a rename never takes a file an append is still writing;
 * its second byte is held by a replay from start to end, so two replays never take the same letters.
 * Within one process a replay's channel on the lock file is the one appends use while it runs:
 * closing any channel on the file drops every lock the process holds on it.
 */
public final class DeadLetterStore {
    private static boolean endsWithNewline(Path file) throws IOException {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer last = ByteBuffer.allocate(1);
            return in.size() == 0 || in.read(last, in.size() - 1) == 1 && last.get(0) == '\n';
        }
    }

    private static final String SUFFIX = ".deadletters";
    private static final String REPLAYING = ".replaying-";
    private static final String LOCK = ".lock";
    /** The lock file's byte held while the dead-letter file is written or renamed. */
    static final long WRITING = 0;
    /** The lock file's byte held for the whole of a replay. */
    private static final long REPLAY = 1;

    private DeadLetterStore() {}

    public static Path of(Path dataDir, String destination) {
        return PositionFile.folder(dataDir).resolve(destination + SUFFIX);
    }

    static Path lockFile(Path dataDir, String destination) {
        return PositionFile.folder(dataDir).resolve(destination + SUFFIX + LOCK).toAbsolutePath().normalize();
    }

    /** The lock channels of the replays running in this process, by lock file (guarded by the class). */
    private static final Map<Path, FileChannel> REPLAYS_HERE = new HashMap<>();

    private static FileChannel openLock(Path lock) throws IOException {
        Files.createDirectories(lock.getParent());
        return FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    }

    /**
     * Appends {@code letters} (forced to disk before this returns), holding the lock a replay takes
     * to rename the file aside; waits while a replay renames it.
     */
    public static synchronized void append(Path dataDir, List<DeadLetter> letters) throws IOException {
        if (letters.isEmpty()) {
            return;
        }
        String destination = letters.get(0).destination();
        Path lockFile = lockFile(dataDir, destination);
        FileChannel replaying = REPLAYS_HERE.get(lockFile);
        if (replaying != null) {
            try (FileLock writing = replaying.lock(WRITING, 1, false)) {
                appendLocked(dataDir, destination, letters);
            }
            return;
        }
        try (FileChannel lock = openLock(lockFile); FileLock writing = lock.lock(WRITING, 1, false)) {
            appendLocked(dataDir, destination, letters);
        }
    }

    private static void appendLocked(Path dataDir, String destination, List<DeadLetter> letters) throws IOException {
        if (letters.isEmpty()) {
            return;
        }
        Path file = of(dataDir, destination);
        ByteArrayOutputStream lines = new ByteArrayOutputStream();
        for (DeadLetter letter : letters) {
            write(letter, lines);
            lines.write('\n');
        }
        boolean created = !Files.exists(file);
        // A line a crash cut short is ended first, so it cannot swallow the next letter.
        boolean cutShort = !created && !endsWithNewline(file);
        try (var out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            if (cutShort) {
                out.write(ByteBuffer.wrap(new byte[] {'\n'}));
            }
            var bytes = ByteBuffer.wrap(lines.toByteArray());
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            out.force(true);
        }
        if (created) {
            NumberedFiles.forceDirectory(file.getParent());
        }
    }

    private static void write(DeadLetter d, OutputStream out) throws IOException {
        try (JsonGenerator g = EdgeJson.MAPPER.getFactory().createGenerator(out)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            g.writeStartObject();
            g.writeStringField("destination", d.destination());
            g.writeStringField("reason", d.reason());
            g.writeNumberField("status", d.status());
            if (d.error() != null) {
                g.writeStringField("error", d.error());
            }
            g.writeNumberField("attempts", d.attempts());
            g.writeStringField("deadLetteredAt", Instant.ofEpochMilli(d.deadLetteredAtMillis()).toString());
            g.writeNumberField("seq", d.seq());
            g.writeFieldName("event");
            g.writeRawValue(new String(d.eventRecord(), StandardCharsets.UTF_8));
            g.writeEndObject();
        }
    }

    /** One line read back. */
    public record Entry(JsonNode line) {
        public String reason() {
            return line.path("reason").asText();
        }

        public int status() {
            return line.path("status").asInt();
        }

        public int attempts() {
            return line.path("attempts").asInt();
        }

        public long seq() {
            return line.path("seq").asLong();
        }

        public JsonNode event() {
            return line.path("event");
        }

        public String eventId() {
            return event().path("eventId").asText();
        }
    }

    /** Every dead letter of {@code destination}, oldest first (including a replay left unfinished). */
    public static List<Entry> list(Path dataDir, String destination) throws IOException {
        List<Entry> out = new ArrayList<>();
        for (Path file : files(dataDir, destination)) {
            readInto(file, out);
        }
        return out;
    }

    private static void readInto(Path file, List<Entry> out) throws IOException {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    out.add(new Entry(EdgeJson.MAPPER.readTree(line)));
                } catch (IOException e) {
                    // A line cut short by a crash: nothing of it can be sent.
                }
            }
        }
    }

    /** The files of {@code destination}'s dead letters: replays left unfinished first, then the current one. */
    static List<Path> files(Path dataDir, String destination) throws IOException {
        List<Path> files = new ArrayList<>();
        Path folder = PositionFile.folder(dataDir);
        if (Files.isDirectory(folder)) {
            try (DirectoryStream<Path> aside = Files.newDirectoryStream(folder, destination + SUFFIX + REPLAYING + "*")) {
                aside.forEach(files::add);
            }
            files.sort(null);
        }
        Path current = of(dataDir, destination);
        if (Files.exists(current)) {
            files.add(current);
        }
        return files;
    }

    /**
     * Takes every dead letter of {@code destination} out of the store for a replay: the current file
     * is renamed aside under the writing lock (the edge starts a new one with its next dead letter),
     * and the entries of all files aside are returned with them. The replay holds its own lock until
     * {@link Replay#close}; {@link Replay#finish} puts back what failed again and deletes the files.
     *
     * @throws ReplayRunning when another replay of {@code destination} holds the lock
     */
    public static synchronized Replay takeForReplay(Path dataDir, String destination) throws IOException {
        Path lockFile = lockFile(dataDir, destination);
        if (REPLAYS_HERE.containsKey(lockFile)) {
            throw new ReplayRunning(destination);
        }
        FileChannel lock = openLock(lockFile);
        try {
            if (lock.tryLock(REPLAY, 1, false) == null) {
                throw new ReplayRunning(destination);
            }
            Path current = of(dataDir, destination);
            try (FileLock writing = lock.lock(WRITING, 1, false)) {
                if (Files.exists(current)) {
                    Path aside = current.resolveSibling(current.getFileName() + REPLAYING + System.currentTimeMillis());
                    Files.move(current, aside, StandardCopyOption.ATOMIC_MOVE);
                    NumberedFiles.forceDirectory(current.getParent());
                }
            }
            List<Path> files = new ArrayList<>(files(dataDir, destination));
            files.remove(current); // one the edge started meanwhile stays for the next replay
            List<Entry> entries = new ArrayList<>();
            for (Path file : files) {
                readInto(file, entries);
            }
            REPLAYS_HERE.put(lockFile, lock);
            return new Replay(dataDir, destination, lockFile, lock, files, entries);
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /** Another replay of the destination is under way (in this or another process). */
    public static final class ReplayRunning extends IOException {
        ReplayRunning(String destination) {
            super("another replay of '" + destination + "' is running; wait until it ends");
        }
    }

    /** Dead letters taken out for a replay, and the files they came from; holds the replay's lock until closed. */
    public static final class Replay implements AutoCloseable {
        private final Path dataDir;
        private final String destination;
        private final Path lockFile;
        private final FileChannel lock;
        private final List<Path> files;
        private final List<Entry> entries;

        private Replay(Path dataDir, String destination, Path lockFile, FileChannel lock, List<Path> files,
                       List<Entry> entries) {
            this.dataDir = dataDir;
            this.destination = destination;
            this.lockFile = lockFile;
            this.lock = lock;
            this.files = List.copyOf(files);
            this.entries = List.copyOf(entries);
        }

        public List<Entry> entries() {
            return entries;
        }

        /** Appends {@code failedAgain} to the store, then deletes the files taken (a crash between: repeats, never losses). */
        public void finish(List<DeadLetter> failedAgain) throws IOException {
            synchronized (DeadLetterStore.class) {
                try (FileLock writing = lock.lock(WRITING, 1, false)) {
                    appendLocked(dataDir, destination, failedAgain);
                }
            }
            for (Path file : files) {
                Files.deleteIfExists(file);
            }
            if (!files.isEmpty()) {
                NumberedFiles.forceDirectory(files.get(0).getParent());
            }
        }

        /** Ends the replay: what {@link #finish} did not delete stays for the next one. */
        @Override
        public void close() throws IOException {
            synchronized (DeadLetterStore.class) {
                REPLAYS_HERE.remove(lockFile, lock);
                lock.close();
            }
        }
    }
}
