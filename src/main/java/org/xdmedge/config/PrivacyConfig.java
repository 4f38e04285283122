package org.xdmedge.config;

import java.util.List;

/**
 * {@code privacy:} the privacy jobs API (docs/PRIVACY.md).
 *
 * @param adminTokens the lower-case hex SHA-256 of each bearer token that may use {@code /privacy/jobs};
 *                    none: the API is off (404)
 * @param reclaimMinutes how long after a delete job completes its events' bytes may still be in the
 *                       segment files, at most (default 60; 0: rewritten at once)
 * @param kafkaDeletionTopic a topic of the Kafka datasets' cluster that takes one deletion record per
 *                           delete job; null: none
 */
public record PrivacyConfig(List<String> adminTokens, Integer reclaimMinutes, String kafkaDeletionTopic) {
    public static final int DEFAULT_RECLAIM_MINUTES = 60;

    public PrivacyConfig {
        adminTokens = adminTokens == null ? List.of() : List.copyOf(adminTokens);
        reclaimMinutes = reclaimMinutes == null ? DEFAULT_RECLAIM_MINUTES : reclaimMinutes;
    }

    public static PrivacyConfig defaults() {
        return new PrivacyConfig(null, null, null);
    }

    public boolean enabled() {
        return !adminTokens.isEmpty();
    }
}
