package org.xdmedge.protocol;

import java.util.Locale;
import java.util.Map;

/**
 * The {@code x-adobe-edge: <REGION>;<id>} header: the Web SDK reports the integer as the region id
 * from getIdentity. Ids follow Adobe's published edge regions; an unknown region reports 0.
 */
public final class Regions {
    private static final Map<String, Integer> IDS = Map.of(
            "va6", 7, "or2", 9, "irl1", 6, "ind1", 12, "jpn3", 3, "sgp3", 8, "aus3", 5);

    private Regions() {}

    public static String edgeHeader(String region) {
        return region.toUpperCase(Locale.ROOT) + ";" + IDS.getOrDefault(region, 0);
    }
}
