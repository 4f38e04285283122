package org.xdmedge.store.log;

/** {@link EventLogPackedFramesTest} with zstd frames ({@code storage.compression: zstd}). */
class EventLogZstdPackedFramesTest extends EventLogPackedFramesTest {
    @Override
    FramePacking packing() {
        return FramePacking.ZSTD;
    }
}
