package org.xdmedge.personalization;

import java.util.function.BiConsumer;
import org.xdmedge.config.ConfigCheck;
import org.xdmedge.config.EdgeConfig;

/** Each datastream's activities, inline or in their file, are ones the edge can serve. */
public final class ActivitiesCheck implements ConfigCheck {
    @Override
    public void check(EdgeConfig config, BiConsumer<String, String> problem) {
        for (int i = 0; i < config.datastreams().size(); i++) {
            var ds = config.datastreams().get(i);
            if (ds != null && ds.personalization() != null) {
                ActivitiesLoader.check(ds.personalization(), "datastreams[" + i + "].personalization", problem);
            }
        }
    }
}
