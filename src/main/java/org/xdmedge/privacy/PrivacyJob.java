package org.xdmedge.privacy;

/**
 * One job as kept in {@code <data>/privacy/jobs/<jobId>.json}. {@code value} is the identity asked
 * about; a delete job forgets it ({@code null}) once the deleted events' bytes are reclaimed, so no
 * file of the data directory holds it any more.
 */
public record PrivacyJob(String jobId, String userKey, String action, String orgId, String namespace, String value,
                         String regulation, String status, long createdAt, long completedAt, long events,
                         boolean reclaimed, String error) {
    public static final String PROCESSING = "processing";
    public static final String COMPLETE = "complete";
    public static final String ERROR = "error";

    public boolean delete() {
        return "delete".equals(action);
    }

    PrivacyJob complete(long events, long now) {
        return new PrivacyJob(jobId, userKey, action, orgId, namespace, value, regulation, COMPLETE, createdAt, now,
                events, reclaimed, null);
    }

    PrivacyJob failed(String why, long now) {
        return new PrivacyJob(jobId, userKey, action, orgId, namespace, value, regulation, ERROR, createdAt, now,
                events, reclaimed, why);
    }

    PrivacyJob reclaimedNow() {
        return new PrivacyJob(jobId, null, action, orgId, namespace, null, regulation, status, createdAt,
                completedAt, events, true, error);
    }
}
