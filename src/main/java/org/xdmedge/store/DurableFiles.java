package org.xdmedge.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Small files replaced whole: written under a temporary name and forced, renamed over the old one,
 * the directory forced. After a crash the file holds the old content or the new, never a torn mix.
 */
public final class DurableFiles {
    private DurableFiles() {}

    /** Replaces {@code target} with {@code content} (from its position to its limit). */
    public static void replace(Path target, ByteBuffer content) throws IOException {
        Files.createDirectories(target.getParent());
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            while (content.hasRemaining()) {
                out.write(content);
            }
            out.force(true);
        }
        rename(tmp, target);
    }

    /** Replaces {@code target} with {@code written}, a whole file in the same directory, forcing it first. */
    public static void publish(Path written, Path target) throws IOException {
        try (FileChannel ch = FileChannel.open(written, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        rename(written, target);
    }

    private static void rename(Path from, Path to) throws IOException {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        NumberedFiles.forceDirectory(to.getParent());
    }
}
