"""5. Multi-head attention at equal width."""

import math

from zoo.report.claims.common import (
    RULE,
    SOURCES,
    ablation_section,
    best_of,
    fmt,
    separated,
    verdict_line,
)


def section_heads(frame, folder):
    title = "5. Multi-head attention"
    tasks = ("associative_recall", "listops")

    def verdict(scores):
        parts = {}
        for task in tasks:
            single = scores.get((task, 1))
            best = best_of(scores, task, (2, 4, 8))
            if single is None or best is None or not math.isfinite(single[0]):
                continue
            if separated(scores[(task, best)], single):
                word = "holds" if scores[(task, best)][0] > single[0] else "does not hold"
                parts[task] = (f"{word} ({best} heads {fmt(scores[(task, best)])} vs 1 head "
                               f"{fmt(single)})")
            else:
                parts[task] = (f"no difference measured (best {best} heads "
                               f"{fmt(scores[(task, best)])} vs 1 head {fmt(single)})")
        return ["Rule: multi-head helps on a task when the best of 2/4/8 heads (chosen on "
                f"validation) is above 1 head by the test ({RULE}).", "", verdict_line(parts)]

    return ablation_section(
        title, SOURCES["heads"], "at equal width (head size = width / heads, same "
        "parameters), more heads give higher accuracy.", frame, tasks, "num_heads",
        (1, 2, 4, 8), verdict, "claim_heads", ("num_heads",))
