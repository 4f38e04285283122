package org.xdmedge.privacy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The privacy jobs' metrics (docs/DEPLOYMENT.md): jobs by action and status, events found by
 * access and delete jobs, the bytes rewrites reclaimed, and how long jobs take. Until bound to the
 * edge's registry they count into one of their own (the command line has no {@code /metrics}).
 */
final class PrivacyMetrics {
    private static final String[] ACTIONS = {"access", "delete"};
    private static final String[] STATUSES = {PrivacyJob.PROCESSING, PrivacyJob.COMPLETE, PrivacyJob.ERROR};

    private final Map<String, Timer> durations;
    private final Counter accessed;
    private final Counter deleted;
    private final Counter reclaimedBytes;
    private final Counter rewrittenSegments;

    PrivacyMetrics(MeterRegistry registry, Supplier<Collection<PrivacyJob>> jobs, IntSupplier queued) {
        for (String action : ACTIONS) {
            for (String status : STATUSES) {
                Gauge.builder("xdmedge.privacy.jobs", () -> jobs.get().stream()
                                .filter(j -> action.equals(j.action()) && status.equals(j.status())).count())
                        .description("Privacy jobs kept under <data>/privacy/jobs, by action and status")
                        .tag("action", action).tag("status", status).register(registry);
            }
        }
        Gauge.builder("xdmedge.privacy.jobs.queued", queued::getAsInt)
                .description("Privacy jobs waiting for the jobs thread").register(registry);
        durations = Map.of(
                "access", timer(registry, "access"),
                "delete", timer(registry, "delete"));
        accessed = Counter.builder("xdmedge.privacy.events.accessed")
                .description("Events written to access jobs' downloads").register(registry);
        deleted = Counter.builder("xdmedge.privacy.events.deleted")
                .description("Events delete jobs listed as deleted (a job run again counts its events again)")
                .register(registry);
        reclaimedBytes = Counter.builder("xdmedge.privacy.rewrite.reclaimed").baseUnit("bytes")
                .description("Bytes of event segments rewrites without deleted events gave back").register(registry);
        rewrittenSegments = Counter.builder("xdmedge.privacy.rewrite.segments")
                .description("Event segments rewritten without deleted events").register(registry);
    }

    /** Counting into a registry of their own. */
    static PrivacyMetrics unbound(Supplier<Collection<PrivacyJob>> jobs, IntSupplier queued) {
        return new PrivacyMetrics(new SimpleMeterRegistry(), jobs, queued);
    }

    private static Timer timer(MeterRegistry registry, String action) {
        return Timer.builder("xdmedge.privacy.job.duration")
                .description("How long a privacy job ran, from its start on the jobs thread to complete or error")
                .tag("action", action).register(registry);
    }

    void finished(String action, long nanos, long events, boolean ok) {
        Timer timer = durations.get(action);
        if (timer != null) {
            timer.record(nanos, TimeUnit.NANOSECONDS);
        }
        if (ok) {
            ("delete".equals(action) ? deleted : accessed).increment(events);
        }
    }

    void rewrote(int segments, long bytes) {
        rewrittenSegments.increment(segments);
        reclaimedBytes.increment(bytes);
    }
}
