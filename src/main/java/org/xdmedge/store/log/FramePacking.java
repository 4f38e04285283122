package org.xdmedge.store.log;

import java.util.Arrays;
import java.util.List;

/**
 * How the event log packs each commit's frame of events ({@code storage.compression}). A group's
 * events share their keys and most values, so a frame of them shrinks many times over, where one
 * event alone hardly does; the disk's bandwidth then bounds large requests less. Frames of every
 * kind are read whatever is set.
 */
public enum FramePacking {
    /** Plain frames: no CPU spent packing, every event's bytes written as they are. */
    NONE("none"),
    /** LZ4 (lz4-java): the least CPU per byte; a group's events come out several times smaller. */
    LZ4("lz4"),
    /** zstd level 1 (zstd-jni): smaller frames than LZ4's, for about twice its CPU. */
    ZSTD("zstd");

    private final String configName;

    FramePacking(String configName) {
        this.configName = configName;
    }

    /** The name {@code storage.compression} takes for it. */
    public String configName() {
        return configName;
    }

    /** The packing named {@code name} in the configuration, or null for an unknown name. */
    public static FramePacking of(String name) {
        for (FramePacking p : values()) {
            if (p.configName.equals(name)) {
                return p;
            }
        }
        return null;
    }

    /** Every name {@code storage.compression} takes. */
    public static List<String> configNames() {
        return Arrays.stream(values()).map(FramePacking::configName).toList();
    }
}
