package org.xdmedge.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteIdentityStateStoreTest extends IdentityStateStoreContract {
    @TempDir
    Path dir;

    @Override
    protected IdentityStateStore open() throws Exception {
        return new SqliteIdentityStateStore(dir);
    }

    @Override
    protected IdentityStateStore reopen() throws Exception {
        return new SqliteIdentityStateStore(dir);
    }

    @Test
    void valuesAreKeptPerOrganizationAndSurviveARestart() throws Exception {
        String ecid = "01234567890123456789012345678901234567";
        try (IdentityStateStore first = new SqliteIdentityStateStore(dir.resolve("restart"))) {
            assertThat(first.get("A@AdobeOrg", ecid, "consent")).isEmpty();
            first.put("A@AdobeOrg", ecid, "consent", "in");
            first.put("A@AdobeOrg", ecid, "consent", "out");
            first.put("B@AdobeOrg", ecid, "consent", "in");
        }
        try (IdentityStateStore again = new SqliteIdentityStateStore(dir.resolve("restart"))) {
            assertThat(again.get("A@AdobeOrg", ecid, "consent")).contains("out");
            assertThat(again.get("B@AdobeOrg", ecid, "consent")).contains("in");
            assertThat(again.get("C@AdobeOrg", ecid, "consent")).isEmpty();
        }
    }
}
