package org.xdmedge.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteIdentityStateStoreTest {
    @TempDir
    Path dir;

    @Test
    void valuesAreKeptPerOrganizationAndSurviveARestart() throws Exception {
        String ecid = "01234567890123456789012345678901234567";
        try (IdentityStateStore store = new SqliteIdentityStateStore(dir)) {
            assertThat(store.get("A@AdobeOrg", ecid, "consent")).isEmpty();
            store.put("A@AdobeOrg", ecid, "consent", "in");
            store.put("A@AdobeOrg", ecid, "consent", "out");
            store.put("B@AdobeOrg", ecid, "consent", "in");
        }
        try (IdentityStateStore store = new SqliteIdentityStateStore(dir)) {
            assertThat(store.get("A@AdobeOrg", ecid, "consent")).contains("out");
            assertThat(store.get("B@AdobeOrg", ecid, "consent")).contains("in");
            assertThat(store.get("C@AdobeOrg", ecid, "consent")).isEmpty();
        }
    }
}
