package org.xdmedge.testing;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

class RequiredPartTest {
    @Test
    void aPresentPartNeitherSkipsNorFails() {
        for (String ci : new String[] {null, "", "true", "1", "false"}) {
            assertThatCode(() -> RequiredPart.assumeOrFail(true, "redis-server is not installed", ci)).doesNotThrowAnyException();
        }
    }

    @Test
    void aMissingPartSkipsOutsideCi() {
        for (String ci : new String[] {null, "", "false", "0", "no"}) {
            assertThatThrownBy(() -> RequiredPart.assumeOrFail(false, "redis-server is not installed", ci))
                    .as("CI=%s", ci).isInstanceOf(TestAbortedException.class).hasMessageContaining("redis-server is not installed");
        }
    }

    @Test
    void aMissingPartFailsUnderCi() {
        for (String ci : new String[] {"true", "TRUE", "1"}) {
            assertThatThrownBy(() -> RequiredPart.assumeOrFail(false, "chromium is not installed", ci))
                    .as("CI=%s", ci).isInstanceOf(AssertionFailedError.class)
                    .hasMessageContaining("chromium is not installed").hasMessageContaining("CI=" + ci);
        }
    }
}
