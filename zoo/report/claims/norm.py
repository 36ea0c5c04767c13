"""6. LayerNorm vs BatchNorm vs RMSNorm, pre vs post."""

from zoo.report.claims.common import (
    RULE,
    SOURCES,
    ablation_section,
    best_of,
    fmt,
    model_setting,
    separated,
    verdict_line,
)


def section_norm(frame, folder):
    title = "6. LayerNorm vs BatchNorm vs RMSNorm, pre vs post"
    tasks = ("imdb", "listops")

    def label(rows):
        return rows.assign(variant=[
            f"{model_setting(r, 'norm')}, "
            f"{'pre' if model_setting(r, 'normalize_first') else 'post'}"
            for r in rows["record"]])

    order = tuple(f"{n}, {p}" for n in ("layer", "batch", "rms") for p in ("post", "pre"))

    def verdict(scores):
        parts = {}
        for task in tasks:
            layer = best_of(scores, task, order[0:2])
            batch = best_of(scores, task, order[2:4])
            if layer is None or batch is None:
                continue
            a, b = scores[(task, layer)], scores[(task, batch)]
            if separated(a, b):
                word = "holds" if a[0] > b[0] else "does not hold (BatchNorm better)"
            else:
                word = "no difference measured"
            parts[task] = f"{word} (best LayerNorm: {layer} {fmt(a)}; best BatchNorm: {batch} {fmt(b)})"
        return ["Rule: LayerNorm suits a task better when its best placement "
                "(pre or post, chosen on validation) is above BatchNorm's best by the test "
                f"({RULE}).", "", verdict_line(parts)]

    return ablation_section(
        title, SOURCES["norm"], "on text (padded, variable-length sequences) LayerNorm "
        "trains better than BatchNorm, whose batch statistics mix in padding.", frame, tasks,
        label, order, verdict, "claim_norm", ("norm", "normalize_first"))
