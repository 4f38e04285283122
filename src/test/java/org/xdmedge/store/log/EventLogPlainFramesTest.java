package org.xdmedge.store.log;

/** {@link EventLogTest} with compression off ({@code storage.compression: none}): every frame plain. */
class EventLogPlainFramesTest extends EventLogTest {
    @Override
    FramePacking packing() {
        return FramePacking.NONE;
    }
}
