package org.xdmedge.personalization;

import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xdmedge.config.PersonalizationConfig.ActivityConfig;
import org.xdmedge.config.PersonalizationConfig;

/**
 * The activities of every datastream, as the pipeline's {@link Decider}. Activities written in an
 * {@code activitiesFile} are re-read when the file changes: a file that validates replaces the
 * datastream's activities at once; one that does not is refused (logged with key and line, counted)
 * and the previous activities stay in force.
 */
public final class ActivityRegistry implements Decider, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ActivityRegistry.class);
    public static final Duration DEFAULT_POLL = Duration.ofSeconds(1);

    /** Replaced whole on a reload; read without a lock on every request. */
    private volatile Map<String, DatastreamActivities> byDatastream;
    private final Map<String, Path> files;
    /** The bytes last read from each file, valid or not: a refused file is counted once, not at every poll. */
    private final Map<String, byte[]> lastSeen = new HashMap<>();
    private final Runnable reloadFailed;
    private final ScheduledExecutorService watcher;

    private ActivityRegistry(Map<String, DatastreamActivities> initial, Map<String, Path> files, Runnable reloadFailed,
                             Duration poll) {
        this.byDatastream = Map.copyOf(initial);
        this.files = Map.copyOf(files);
        this.reloadFailed = reloadFailed;
        if (files.isEmpty()) {
            this.watcher = null;
        } else {
            this.watcher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "xdm-edge-activities-watcher");
                t.setDaemon(true);
                return t;
            });
            long every = Math.max(10, poll.toMillis());
            watcher.scheduleWithFixedDelay(this::poll, every, every, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Reads every datastream's activities (inline, or from its file) and starts watching the files.
     * {@code reloadFailed} runs for every changed file that is refused.
     */
    public static ActivityRegistry start(Map<String, PersonalizationConfig> byDatastream, Runnable reloadFailed,
                                         Duration poll) throws ActivitiesException {
        Map<String, DatastreamActivities> initial = new HashMap<>();
        Map<String, Path> files = new HashMap<>();
        Map<String, byte[]> seen = new HashMap<>();
        for (var e : byDatastream.entrySet()) {
            PersonalizationConfig p = e.getValue();
            if (p == null) {
                continue;
            }
            if (p.activitiesFile() != null) {
                Path file = Path.of(p.activitiesFile());
                byte[] bytes = read(file);
                List<ActivityConfig> read = new ActivitiesLoader().parse(new String(bytes, StandardCharsets.UTF_8),
                        file.toString());
                initial.put(e.getKey(), DatastreamActivities.of(read));
                files.put(e.getKey(), file);
                seen.put(e.getKey(), bytes);
            } else if (!p.activities().isEmpty()) {
                initial.put(e.getKey(), DatastreamActivities.of(p.activities()));
            }
        }
        ActivityRegistry registry = new ActivityRegistry(initial, files, reloadFailed, poll);
        synchronized (registry.lastSeen) {
            registry.lastSeen.putAll(seen);
        }
        return registry;
    }

    private static byte[] read(Path file) throws ActivitiesException {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ActivitiesException("cannot read activities file " + file + ": " + e, e);
        }
    }

    @Override
    public boolean active(String datastreamId) {
        return byDatastream.containsKey(datastreamId);
    }

    @Override
    public ArrayNode decide(DecisionRequest request) {
        DatastreamActivities activities = byDatastream.get(request.datastreamId());
        return activities == null || request.ecid() == null ? null : activities.decide(request);
    }

    /** The number of activities a datastream has now (0 when none). */
    public int activities(String datastreamId) {
        DatastreamActivities a = byDatastream.get(datastreamId);
        return a == null ? 0 : a.size();
    }

    /** Looks at every watched file once; also what the watcher thread runs. */
    public void poll() {
        synchronized (lastSeen) {
            for (var e : files.entrySet()) {
                try {
                    check(e.getKey(), e.getValue());
                } catch (RuntimeException ex) {
                    log.error("activities file {} could not be checked", e.getValue(), ex);
                }
            }
        }
    }

    private void check(String datastreamId, Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException ex) {
            bytes = new byte[0];
            if (Arrays.equals(bytes, lastSeen.get(datastreamId))) {
                return;
            }
            lastSeen.put(datastreamId, bytes);
            refused(datastreamId, "cannot read activities file " + file + ": " + ex);
            return;
        }
        if (Arrays.equals(bytes, lastSeen.get(datastreamId))) {
            return;
        }
        lastSeen.put(datastreamId, bytes);
        try {
            List<ActivityConfig> read = new ActivitiesLoader().parse(new String(bytes, StandardCharsets.UTF_8),
                    file.toString());
            Map<String, DatastreamActivities> next = new HashMap<>(byDatastream);
            next.put(datastreamId, DatastreamActivities.of(read));
            byDatastream = Map.copyOf(next);
            log.info("datastream '{}': {} activities now in force from {}", datastreamId, read.size(), file);
        } catch (ActivitiesException ex) {
            refused(datastreamId, ex.getMessage());
        }
    }

    private void refused(String datastreamId, String why) {
        log.warn("datastream '{}': activities file refused, the previous activities stay in force: {}", datastreamId, why);
        reloadFailed.run();
    }

    @Override
    public void close() {
        if (watcher != null) {
            watcher.shutdownNow();
        }
    }
}
