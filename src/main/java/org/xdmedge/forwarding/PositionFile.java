package org.xdmedge.forwarding;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.xdmedge.store.DurableFiles;

/**
 * A destination's position in the event log, {@code <data>/forwarding/<id>.position}: the sequence
 * number of the last event it has passed (delivered, dead-lettered or filtered out), as decimal
 * text. Replaced whole (temporary file, fsync, rename, fsync of the folder): a crash leaves the
 * old position or the new one, never a torn one.
 */
public final class PositionFile {
    private PositionFile() {}

    public static Path of(Path dataDir, String destination) {
        return folder(dataDir).resolve(destination + ".position");
    }

    public static Path folder(Path dataDir) {
        return dataDir.resolve("forwarding");
    }

    /** The saved position; 0 (before the first event) when none was saved. */
    public static long read(Path file) throws IOException {
        try {
            String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw new IOException(file + " does not hold a position (a sequence number); found '"
                        + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + "'");
            }
        } catch (NoSuchFileException e) {
            return 0;
        }
    }

    public static void write(Path file, long seq) throws IOException {
        DurableFiles.replace(file, ByteBuffer.wrap((seq + "\n").getBytes(StandardCharsets.US_ASCII)));
    }
}
