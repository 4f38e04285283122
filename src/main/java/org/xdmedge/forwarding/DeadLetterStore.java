package org.xdmedge.forwarding;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.xdmedge.protocol.EdgeJson;
import org.xdmedge.store.NumberedFiles;

/**
 * A destination's dead letters, {@code <data>/forwarding/<id>.deadletters}: JSON Lines, one per
 * event, {@code {"destination", "reason", "status", "error", "attempts", "deadLetteredAt", "seq",
 * "event": <the event as export writes it>}}. Each append opens, writes and forces the file, so a
 * replay may rename it aside while the edge runs: the next dead letter starts a new file.
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

    private DeadLetterStore() {}

    public static Path of(Path dataDir, String destination) {
        return PositionFile.folder(dataDir).resolve(destination + SUFFIX);
    }

    /** Appends {@code letters} (forced to disk before this returns). */
    public static synchronized void append(Path dataDir, List<DeadLetter> letters) throws IOException {
        if (letters.isEmpty()) {
            return;
        }
        Path file = of(dataDir, letters.get(0).destination());
        Files.createDirectories(file.getParent());
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
     * is renamed aside (the edge starts a new one with its next dead letter), and the entries of all
     * files aside are returned with them. {@link #finishReplay} deletes the files once what failed
     * again is appended back.
     */
    public static Replay takeForReplay(Path dataDir, String destination) throws IOException {
        Path current = of(dataDir, destination);
        if (Files.exists(current)) {
            Path aside = current.resolveSibling(current.getFileName() + REPLAYING + System.currentTimeMillis());
            Files.move(current, aside, StandardCopyOption.ATOMIC_MOVE);
            NumberedFiles.forceDirectory(current.getParent());
        }
        List<Path> files = new ArrayList<>(files(dataDir, destination));
        files.remove(current); // one the edge started meanwhile stays for the next replay
        List<Entry> entries = new ArrayList<>();
        for (Path file : files) {
            readInto(file, entries);
        }
        return new Replay(files, entries);
    }

    /** Dead letters taken out for a replay, and the files they came from. */
    public record Replay(List<Path> files, List<Entry> entries) {}

    public static void finishReplay(Replay replay) throws IOException {
        for (Path file : replay.files()) {
            Files.deleteIfExists(file);
        }
        if (!replay.files().isEmpty()) {
            NumberedFiles.forceDirectory(replay.files().get(0).getParent());
        }
    }
}
