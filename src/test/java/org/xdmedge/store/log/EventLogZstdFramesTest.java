package org.xdmedge.store.log;

/** {@link EventLogTest} with zstd frames ({@code storage.compression: zstd}). */
class EventLogZstdFramesTest extends EventLogTest {
    @Override
    FramePacking packing() {
        return FramePacking.ZSTD;
    }
}
