package org.xdmedge.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The disk alone, written the way the event log writes it: whole blocks appended with direct I/O to
 * 64 MiB files, each write forced ({@code fdatasync}) before the next. It prints the latency of
 * write + force, so the edge's latency figures can be read against the floor the disk sets: a
 * request answered only once its group is durable waits out every stall of the disk.
 *
 * <p>Usage: {@code DiskProbe DIR SECONDS BYTES_PER_COMMIT COMMITS_PER_SECOND [ZEROS_AHEAD]}
 * (rate 0: as fast as it can). With {@code ZEROS_AHEAD} bytes, a write that would grow the file
 * carries that many zeros past its end, as the event log's small frames do, so the commits after it
 * overwrite written blocks and their {@code fdatasync} has no inode to write. It also prints the
 * writing thread's CPU per commit.
 */
public final class DiskProbe {
    private static final long SEGMENT_BYTES = 64L << 20;

    public static void main(String[] args) throws IOException, InterruptedException {
        Path dir = Files.createDirectories(Path.of(args[0]));
        double seconds = Double.parseDouble(args[1]);
        int bytes = Integer.parseInt(args[2]);
        double rate = Double.parseDouble(args[3]);
        int zerosAhead = args.length > 4 ? Integer.parseInt(args[4]) : 0;
        int block = (int) Math.max(4096, Files.getFileStore(dir).getBlockSize());
        int length = (bytes + block - 1) / block * block;
        zerosAhead = (zerosAhead + block - 1) / block * block;
        ByteBuffer frame = ByteBuffer.allocateDirect(length + zerosAhead + block).alignedSlice(block).limit(length);
        while (frame.hasRemaining()) {
            frame.put((byte) ('a' + frame.position() % 26));
        }
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpuStart = threads.getCurrentThreadCpuTime();
        long[] latencies = new long[1 << 16];
        int count = 0;
        long slowNanos = 0;
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        long next = start;
        int segment = 0;
        FileChannel channel = null;
        Path file = null;
        long position = SEGMENT_BYTES;
        long fileEnd = 0;
        try {
            while (System.nanoTime() < end) {
                if (position + length > SEGMENT_BYTES) {
                    if (channel != null) {
                        channel.close();
                        Files.delete(file);
                    }
                    file = dir.resolve("probe-" + segment++);
                    channel = open(file);
                    position = 0;
                    fileEnd = 0;
                }
                if (rate > 0) {
                    next += (long) (1e9 / rate);
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                }
                long t = System.nanoTime();
                int write = length;
                if (zerosAhead > 0 && position + length > fileEnd) {
                    write = (int) Math.max(length, Math.min(length + zerosAhead, SEGMENT_BYTES - position));
                }
                frame.clear().limit(write);
                long at = position;
                while (frame.hasRemaining()) {
                    at += channel.write(frame, at);
                }
                channel.force(false);
                position += length;
                fileEnd = Math.max(fileEnd, at);
                long took = System.nanoTime() - t;
                if (count == latencies.length) {
                    latencies = Arrays.copyOf(latencies, count * 2);
                }
                latencies[count++] = took;
                if (took > 10_000_000) {
                    slowNanos += took;
                }
            }
        } finally {
            if (channel != null) {
                channel.close();
                Files.deleteIfExists(file);
            }
        }
        long cpuNanos = threads.getCurrentThreadCpuTime() - cpuStart;
        double wall = (System.nanoTime() - start) / 1e9;
        long[] sorted = Arrays.copyOf(latencies, count);
        Arrays.sort(sorted);
        long over10 = Arrays.stream(sorted).filter(n -> n > 10_000_000).count();
        long over100 = Arrays.stream(sorted).filter(n -> n > 100_000_000).count();
        System.out.printf("disk alone, %s%s: %d commits of %d KB in %.1f s (%.0f/s), write+force ms p50 %.2f p99 %.2f p99.9 %.2f max %.1f;"
                        + " %d over 10 ms, %d over 100 ms, %.1f%% of the time in commits over 10 ms; %.0f us of CPU a commit%n",
                rate > 0 ? String.format("paced at %.0f commits/s", rate) : "as fast as it can",
                zerosAhead > 0 ? String.format(", %d KB of zeros ahead", zerosAhead / 1024) : ", appended",
                count, length / 1024, wall, count / wall, ms(sorted, 0.5), ms(sorted, 0.99), ms(sorted, 0.999),
                count > 0 ? sorted[count - 1] / 1e6 : 0, over10, over100, slowNanos / 1e9 * 100 / wall,
                count > 0 ? cpuNanos / 1e3 / count : 0);
    }

    private static FileChannel open(Path file) throws IOException {
        try {
            return FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    com.sun.nio.file.ExtendedOpenOption.DIRECT);
        } catch (UnsupportedOperationException | IOException e) {
            Files.deleteIfExists(file);
            return FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        }
    }

    private static double ms(long[] sorted, double quantile) {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) (sorted.length * quantile))] / 1e6;
    }
}
