package org.xdmedge.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.xdmedge.config.ConfigLoader;
import org.xdmedge.config.EdgeConfig;

class RateLimiterTest {
    static final String ORG = "53A16ACB5CC1D3760A495C99@AdobeOrg";

    static RateLimiter limiter(String orgLimit, String dsLimit) throws Exception {
        EdgeConfig config = new ConfigLoader().parse("""
                organizations:
                  - id: %s
                    %s
                datastreams:
                  - id: ds
                    orgId: %s
                    dataset: events
                    %s
                """.formatted(ORG, orgLimit, ORG, dsLimit), "test");
        return new RateLimiter(config);
    }

    @Test
    void aRequestRefusedByTheOrganizationCostsTheDatastreamNothing() throws Exception {
        RateLimiter limiter = limiter("rateLimit: { requestsPerSecond: 0.001, burst: 1 }",
                "rateLimit: { requestsPerSecond: 0.001, burst: 3 }");
        RateLimiter.Decision first = limiter.acquire(ORG, "ds");
        assertThat(first.allowed()).isTrue();
        assertThat(first.remaining()).isZero();
        for (int i = 0; i < 5; i++) {
            RateLimiter.Decision refused = limiter.acquire(ORG, "ds");
            assertThat(refused.allowed()).isFalse();
            // Were the datastream's tokens taken, it would run dry on the third call and say so.
            assertThat(refused.limit()).isEqualTo("organization");
            assertThat(refused.retryAfterSeconds()).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void burstDefaultsToOneSecondOfRequests() throws Exception {
        RateLimiter limiter = limiter("", "rateLimit: { requestsPerSecond: 0.001 }");
        assertThat(limiter.acquire(ORG, "ds").allowed()).isTrue();
        RateLimiter.Decision second = limiter.acquire(ORG, "ds");
        assertThat(second.allowed()).isFalse();
        assertThat(second.limit()).isEqualTo("datastream");
        assertThat(second.retryAfterSeconds()).isGreaterThan(900);
    }

    @Test
    void noConfiguredLimitMeansUnlimited() throws Exception {
        RateLimiter limiter = limiter("", "");
        for (int i = 0; i < 1000; i++) {
            assertThat(limiter.acquire(ORG, "ds")).isEqualTo(new RateLimiter.Decision(true, -1, 0, null));
        }
    }
}
