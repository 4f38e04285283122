package org.xdmedge.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

/** The one shared Jackson mapper, with limits that keep hostile bodies cheap to refuse. */
public final class EdgeJson {
    /** XDM is nested a few levels; anything this deep is an attack, not an event. */
    public static final int MAX_NESTING_DEPTH = 128;

    public static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_NESTING_DEPTH)
                            .maxNumberLength(200)
                            .build())
                    .build())
            // Duplicate keys are refused where the tree is built (the map's put tells), not by the
            // parser's STRICT_DUPLICATE_DETECTION, which keeps a set of names for every object parsed.
            // Objects read by hand (EdgeRequestParser's root and events) check their own keys.
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            // Numbers are kept exactly as sent (2.50 stays 2.50).
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
            .disable(JsonParser.Feature.AUTO_CLOSE_SOURCE)
            .build();

    private EdgeJson() {}
}
