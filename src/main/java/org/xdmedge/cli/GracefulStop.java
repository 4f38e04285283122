package org.xdmedge.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns SIGTERM / SIGINT into a graceful stop whose outcome becomes the exit code. A plain shutdown
 * hook cannot do that: the JVM exits with 143 after a SIGTERM whatever the hook did. So the signals
 * are handled directly, the stop runs on its own thread, and the command returns normally (exit 0
 * when everything in flight was committed and answered). A shutdown hook remains for every other
 * way the JVM may be asked to exit.
 */
final class GracefulStop {
    private static final Logger log = LoggerFactory.getLogger(GracefulStop.class);
    private final BooleanSupplier stopAction;
    private final AtomicBoolean started = new AtomicBoolean();
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile boolean clean;

    private GracefulStop(BooleanSupplier stopAction) {
        this.stopAction = stopAction;
    }

    /** {@code stopAction} stops the node and says whether it stopped cleanly; it may run more than once. */
    static GracefulStop install(BooleanSupplier stopAction) {
        GracefulStop stop = new GracefulStop(stopAction);
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> stop.begin("SIG" + name));
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                log.debug("cannot handle SIG{} here ({}); relying on the shutdown hook", name, e.getMessage());
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(stopAction::getAsBoolean, "xdm-edge-shutdown-hook"));
        return stop;
    }

    private void begin(String reason) {
        if (!started.compareAndSet(false, true)) {
            return;
        }
        log.info("{} received: stopping gracefully", reason);
        Thread stopper = new Thread(() -> {
            try {
                clean = stopAction.getAsBoolean();
            } catch (RuntimeException e) {
                log.error("graceful stop failed", e);
                clean = false;
            } finally {
                done.countDown();
            }
        }, "xdm-edge-stop");
        stopper.start();
    }

    /** Blocks until a stop signal has been handled; true when the node stopped cleanly. */
    boolean awaitStopped() throws InterruptedException {
        done.await();
        return clean;
    }
}
