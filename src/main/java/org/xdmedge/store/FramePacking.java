package org.xdmedge.store;

import java.util.Arrays;
import java.util.List;

/**
 * How the event log packs each commit's frame of events ({@code storage.compression}). A group's
 * events share their keys and most values, so a frame of them shrinks many times over, where one
 * event alone hardly does (docs/PERFORMANCE.md, eighteenth and nineteenth rounds). Frames of every
 * kind are read whatever is set.
 */
public enum FramePacking {
    /** Plain frames: no CPU spent packing, ~2 KB written per stored event. */
    NONE("none"),
    /** LZ4 (lz4-java): ~2 GB/s here on a group's events, 8-9 times smaller. */
    LZ4("lz4"),
    /** zstd level 1 (zstd-jni): about half LZ4's speed, 12-17 times smaller. */
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
