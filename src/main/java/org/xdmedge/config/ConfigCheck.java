package org.xdmedge.config;

import java.util.List;
import java.util.ServiceLoader;
import java.util.function.BiConsumer;

/**
 * A check of what a configuration section means to the room that reads it (a key file's keys, an
 * activities file's activities), run with the loader's own checks so one run reports every
 * problem. Rooms register theirs in {@code META-INF/services}, so this package depends on none.
 */
public interface ConfigCheck {
    /** Reports each problem as (key path, what is wrong); file paths in {@code config} are absolute. */
    void check(EdgeConfig config, BiConsumer<String, String> problem);

    /** The checks on the class path, in a stable order. */
    static List<ConfigCheck> installed() {
        return ServiceLoader.load(ConfigCheck.class, ConfigCheck.class.getClassLoader()).stream()
                .map(ServiceLoader.Provider::get)
                .sorted((a, b) -> a.getClass().getName().compareTo(b.getClass().getName()))
                .toList();
    }
}
