package org.xdmedge.privacy;

import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import org.xdmedge.config.ConfigCheck;
import org.xdmedge.config.EdgeConfig;

/** {@code privacy:}: tokens are SHA-256 digests in lower-case hex, the reclaim bound is sane. */
public final class PrivacyConfigCheck implements ConfigCheck {
    private static final Pattern DIGEST = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");

    @Override
    public void check(EdgeConfig config, BiConsumer<String, String> problem) {
        var privacy = config.privacy();
        for (int i = 0; i < privacy.adminTokens().size(); i++) {
            String t = privacy.adminTokens().get(i);
            if (t == null || !DIGEST.matcher(t).matches()) {
                problem.accept("privacy.adminTokens[" + i + "]",
                        "must be the SHA-256 of a token as 64 lower-case hex digits (e.g. printf %s TOKEN | sha256sum), not the token");
            }
        }
        if (privacy.reclaimMinutes() < 0 || privacy.reclaimMinutes() > 43_200) {
            problem.accept("privacy.reclaimMinutes", "must be 0 to 43200 (30 days)");
        }
        if (privacy.kafkaDeletionTopic() != null && !TOPIC.matcher(privacy.kafkaDeletionTopic()).matches()) {
            problem.accept("privacy.kafkaDeletionTopic", "must be a Kafka topic name");
        }
        if (privacy.kafkaDeletionTopic() != null && config.datasets().stream()
                .noneMatch(d -> EdgeConfig.DatasetConfig.KAFKA.equals(d.outlet()))) {
            problem.accept("privacy.kafkaDeletionTopic", "needs a dataset with outlet: kafka (the record goes to its cluster)");
        }
    }
}
