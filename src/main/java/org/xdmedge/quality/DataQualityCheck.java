package org.xdmedge.quality;

import java.util.function.BiConsumer;
import org.xdmedge.config.ConfigCheck;
import org.xdmedge.config.EdgeConfig;

/**
 * Each datastream's {@code schema}, {@code mapping} and {@code invalidEvents}, and the dataset
 * names the quarantine keeps for itself. The schema file itself is compiled at start-up.
 */
public final class DataQualityCheck implements ConfigCheck {
    @Override
    public void check(EdgeConfig config, BiConsumer<String, String> problem) {
        for (int i = 0; i < config.datastreams().size(); i++) {
            EdgeConfig.DatastreamConfig ds = config.datastreams().get(i);
            if (ds != null) {
                check(ds, "datastreams[" + i + "]", problem);
            }
        }
    }

    private static void check(EdgeConfig.DatastreamConfig ds, String at, BiConsumer<String, String> problem) {
        if (DataQuality.QUARANTINE_DATASET.equals(ds.dataset()) || DataQuality.REPLAYED_DATASET.equals(ds.dataset())) {
            problem.accept(at + ".dataset", "'" + ds.dataset() + "' is the edge's own dataset of invalid events; choose another name");
        }
        if (ds.schema() != null && ds.schema().isBlank()) {
            problem.accept(at + ".schema", "must name a JSON Schema file");
        }
        if (!ds.invalidEvents().equals("quarantine") && !ds.invalidEvents().equals("reject")) {
            problem.accept(at + ".invalidEvents", "must be 'quarantine' or 'reject'");
        }
        Mapping.compile(ds.mapping(), at + ".mapping", problem);
    }
}
