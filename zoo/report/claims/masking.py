"""7. Masked (causal) attention: leak, loss floor, generation."""

from zoo.report.claims.common import (
    LEAK_TOLERANCE,
    SOURCES,
    Section,
    fmt,
    mean_std,
    missing_section,
    separated,
    setup_line,
    table_lines,
    with_setting,
)


def section_masking(frame, folder):
    title = "7. Masked (causal) attention"
    rows = frame[frame["task"] == "repeat_lm"] if len(frame) else frame
    if rows.empty:
        return Section(missing_section(title, "claim_masking"))
    rows = with_setting(rows, "causal")
    floor = rows["record"].iloc[0]["loss_floor"]
    lines = [f"## {title}", "", f"Source: {SOURCES['masking']}.", "",
             "Claim: with the causal mask a decoder cannot see the future (its outputs do "
             "not change when later tokens change) and its loss stops at the honest floor; "
             "without it the training loss collapses below that floor while generation, "
             "which has no future to read, fails.", "",
             setup_line(rows, f"Task `repeat_lm`: a random prefix then the same prefix "
                         f"again, next-token targets; no causal model can go below "
                         f"{floor:.4f} nats per step. Leak: every token after step "
                         f"{rows['record'].iloc[0]['probes']['leak']['cut']} replaced, "
                         "largest change of a predicted probability at or before it. "
                         "Generation: greedy, each output fed back, after the prefix."), ""]
    table, facts = [], {}
    for causal in (True, False):
        group = rows[rows["variant"] == causal]
        if group.empty:
            continue
        probes = [r["probes"] for r in group["record"]]
        fact = {
            "loss": mean_std([r["test"]["loss"] for r in group["record"]]),
            "accuracy": mean_std(group["test"]),
            "leak": max(p["leak"]["max_change"] for p in probes),
            "tokens": mean_std([p["generation"]["token_accuracy"] for p in probes]),
            "sequences": mean_std([p["generation"]["sequence_accuracy"] for p in probes]),
        }
        facts[causal] = fact
        table.append(["on (causal)" if causal else "off", fmt(fact["loss"], 4), f"{floor:.4f}",
                      fmt(fact["accuracy"]), f"{fact['leak']:.2e}", fmt(fact["tokens"]),
                      fmt(fact["sequences"])])
    lines += table_lines(["mask", "test loss (teacher-forced)", "honest floor",
                     "accuracy, predictable steps (teacher-forced)", "leak (max Δp, all seeds)",
                     "generated token accuracy", "generated sequences right"], table)
    texts = []
    on, off = facts.get(True), facts.get(False)
    if on:
        honest = on["leak"] <= LEAK_TOLERANCE and on["loss"][0] >= floor - 0.01
        texts.append(f"with the mask: {'no leak and' if on['leak'] <= LEAK_TOLERANCE else 'LEAKS;'}"
                     f" loss {on['loss'][0]:.4f} {'≥' if honest else 'vs'} floor {floor:.4f}, "
                     f"generation {on['sequences'][0]:.3f} of sequences right")
    if off:
        collapsed = off["loss"][0] < floor - 0.01
        fails = on is not None and separated(off["sequences"], on["sequences"]) \
            and off["sequences"][0] < on["sequences"][0]
        texts.append(f"without: leak {off['leak']:.2f}, loss {off['loss'][0]:.4f} "
                     f"{'below' if collapsed else 'not below'} the floor, generation "
                     f"{off['sequences'][0]:.3f} of sequences right")
        holds = on and on["leak"] <= LEAK_TOLERANCE and collapsed and fails
        if on:
            texts.insert(0, "holds" if holds else "does not hold as stated")
    if not (on and off):
        texts.insert(0, "not measured yet (the rule needs records with the mask and without)")
    lines += ["**Verdict:** " + "; ".join(texts) + ".", ""]
    return Section(lines, facts)
