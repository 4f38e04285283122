package org.xdmedge.state;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.xdmedge.outlet.EventIdLedger;
import org.xdmedge.outlet.EventIdLedgerContract;

class SqliteEventIdLedgerTest extends EventIdLedgerContract {
    @TempDir
    Path dir;

    @Override
    protected EventIdLedger open(long windowMillis, long pendingMillis) throws Exception {
        return new SqliteEventIdLedger(dir, windowMillis, pendingMillis);
    }
}
