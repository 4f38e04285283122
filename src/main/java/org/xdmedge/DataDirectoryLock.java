package org.xdmedge;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One serving process per data directory. Two writers on one event log and one SQLite state file
 * would each acknowledge events the other overwrites, so {@code serve} holds an exclusive lock on
 * {@code <data>/.lock} for as long as it runs; the operating system drops it when the process dies,
 * so a killed edge leaves nothing to clean up. Readers ({@code export}) take no lock.
 */
public final class DataDirectoryLock implements AutoCloseable {
    static final String FILE_NAME = ".lock";
    private final FileChannel channel;
    private final FileLock lock;

    private DataDirectoryLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Creates {@code dataDir} when missing and locks it, or says why it cannot be used. */
    public static DataDirectoryLock acquire(Path dataDir) throws StartupException {
        Path dir = dataDir.toAbsolutePath().normalize();
        try {
            // The real path: two names of one directory (a symlink, ./data) name one lock holder.
            dir = Files.createDirectories(dir).toRealPath();
        } catch (FileAlreadyExistsException e) {
            throw unusable(dir, "it exists and is not a directory", e);
        } catch (IOException e) {
            throw unusable(dir, "it cannot be created (" + reason(e) + ")", e);
        }
        Path file = dir.resolve(FILE_NAME);
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw unusable(dir, "this user cannot write in it (" + reason(e) + ")", e);
        }
        try {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                String holder = holder(channel);
                channel.close();
                throw inUse(dir, holder);
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            return new DataDirectoryLock(channel, lock);
        } catch (OverlappingFileLockException e) {
            closeQuietly(channel);
            throw inUse(dir, "this process");
        } catch (IOException e) {
            closeQuietly(channel);
            throw unusable(dir, "it cannot be locked (" + reason(e) + ")", e);
        }
    }

    private static StartupException inUse(Path dir, String holder) {
        return new StartupException("data directory " + dir + " is in use by another xdm-edge"
                + (holder == null ? "" : " (" + holder + ")")
                + "; stop it, or give this one its own --data directory", StartupException.RUNTIME, null);
    }

    private static StartupException unusable(Path dir, String why, Exception cause) {
        return new StartupException("cannot use data directory " + dir + ": " + why
                + "; choose a --data directory this user can write", StartupException.USAGE, cause);
    }

    /** The pid the holder wrote into the lock file, as {@code "pid N"}; null when unreadable. */
    private static String holder(FileChannel channel) {
        try {
            ByteBuffer buffer = ByteBuffer.allocate(32);
            channel.read(buffer, 0);
            String pid = new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII).trim();
            return pid.matches("[0-9]{1,19}") ? "pid " + pid : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException fs && fs.getReason() != null) {
            return fs.getReason();
        }
        return e.getMessage();
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // the lock goes with the channel
        }
    }

    /** Releases the directory (the file stays: deleting it would race with a process about to lock it). */
    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it too
        }
        closeQuietly(channel);
    }
}
