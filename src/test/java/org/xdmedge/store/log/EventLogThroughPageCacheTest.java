package org.xdmedge.store.log;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@link EventLogTest} with every write through the page cache, as where direct I/O is refused. */
class EventLogThroughPageCacheTest extends EventLogTest {
    @Override
    boolean directIo() {
        return false;
    }

    @Test
    void writesGoThroughThePageCache() throws Exception {
        try (EventLog log = open(4096)) {
            assertThat(log.direct()).isFalse();
        }
    }
}
