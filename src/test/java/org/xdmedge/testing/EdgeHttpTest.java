package org.xdmedge.testing;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** Base of HTTP tests: a fresh real edge per test, on {@link #config()}, in its own data directory. */
public abstract class EdgeHttpTest {
    @TempDir
    protected Path dir;
    protected TestEdge edge;

    /** The YAML configuration the edge starts with. */
    protected String config() {
        return TestEdge.BASIC_CONFIG;
    }

    @BeforeEach
    void startEdge() throws Exception {
        edge = TestEdge.start(config(), dir);
    }

    @AfterEach
    void stopEdge() {
        if (edge != null) {
            edge.close();
        }
    }
}
