package org.xdmedge.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LogBudgetTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void linesBeyondTheBudgetAreLeftOutAndCountedForTheNextWindow() {
        LogBudget budget = new LogBudget(3, 10 * SECOND);
        long t = 5 * SECOND;
        assertThat(budget.take(t)).isZero();
        assertThat(budget.take(t + 1)).isZero();
        assertThat(budget.take(t + 2)).isZero();
        for (int i = 0; i < 7; i++) {
            assertThat(budget.take(t + 3 + i)).as("line %d past the budget", i + 4).isNegative();
        }
        // The first line of the next window may be logged and says how many the last one left out.
        assertThat(budget.take(t + 10 * SECOND)).isEqualTo(7);
        assertThat(budget.take(t + 10 * SECOND + 1)).isZero();
    }

    @Test
    void aQuietWindowReportsNothingAndTheBudgetIsWholeAgain() {
        LogBudget budget = new LogBudget(1, SECOND);
        assertThat(budget.take(0)).isZero();
        assertThat(budget.take(1)).isNegative();
        assertThat(budget.take(SECOND)).isEqualTo(1);
        assertThat(budget.take(3 * SECOND)).as("nothing was left out in the window before").isZero();
        assertThat(budget.take(3 * SECOND + 1)).isNegative();
    }

    @Test
    void aBudgetNeedsALineAndAWindow() {
        assertThatThrownBy(() -> new LogBudget(0, SECOND)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new LogBudget(1, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
