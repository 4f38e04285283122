package org.xdmedge.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Files named by a number and a suffix ({@code 000042.ids}): event segments and id tables, and their directories. */
public final class NumberedFiles {
    private static final Logger log = LoggerFactory.getLogger(NumberedFiles.class);

    private NumberedFiles() {}

    /**
     * Forces a directory, so a file created or removed in it stays so after a crash; a file
     * system that cannot force directories is left to its own ordering.
     */
    public static void forceDirectory(Path directory) {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            log.debug("cannot force directory {}: {}", directory, e.getMessage());
        }
    }

    /** The files of {@code directory} named digits + {@code suffix}, in the order of their numbers (none: empty). */
    public static List<Path> list(Path directory, String suffix) throws IOException {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        List<Path> found = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            files.filter(f -> isNamed(f.getFileName().toString(), suffix)).forEach(found::add);
        }
        found.sort((a, b) -> Long.compare(number(a, suffix), number(b, suffix)));
        return found;
    }

    public static long number(Path file, String suffix) {
        String name = file.getFileName().toString();
        return Long.parseLong(name.substring(0, name.length() - suffix.length()));
    }

    public static String name(long number, int digits, String suffix) {
        return String.format("%0" + digits + "d%s", number, suffix);
    }

    public static boolean isNamed(String name, String suffix) {
        if (!name.endsWith(suffix) || name.length() == suffix.length() || name.length() - suffix.length() > 18) {
            return false;
        }
        for (int i = 0; i < name.length() - suffix.length(); i++) {
            if (!Character.isDigit(name.charAt(i))) {
                return false;
            }
        }
        return true;
    }
}
