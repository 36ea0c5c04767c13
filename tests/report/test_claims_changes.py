"""The claims page's "before and after" section and its chosen-value lines."""

import pandas as pd

from zoo.report.claims import changes
from zoo.report.claims.common import chosen_text

OLD_PAGE = """# Claims

## Headline

| # | claim | verdict (from the numbers below) |
|---|---|---|
| 1 | long-range dependencies | `adding`: does not hold (gru solves longer); `copying`: holds. |
| 2 | vanishing gradients | rnn: holds (far/near 5.1e-02 at init, 3.1e-13 trained). |
| 3 | parallelism and O(n²) | O(n²) time: holds (exponent 1.67-2.63); O(n²) memory: holds (1.63). |

## 1. Long-range
"""


def test_headline_rows_are_read_from_a_page():
    rows = changes.headline_rows(OLD_PAGE)
    assert [r[0] for r in rows] == [1, 2, 3]
    assert rows[0][1] == "long-range dependencies"
    assert rows[0][2].startswith("`adding`: does not hold (gru solves longer)")


def test_verdicts_are_compared_by_their_words_not_their_numbers():
    parts = changes.verdict_parts("O(n²) time: holds (exponent 1.67-2.63); O(n²) memory: "
                                  "holds for the full score matrix (1.63); is not avoided "
                                  "(0.12-1.50: a: 1, b: 2).")
    assert parts == {"O(n²) time": "holds", "O(n²) memory": "holds for the full score matrix",
                     "is not avoided": "is not avoided"}
    assert changes.moves("rnn: holds (far/near 5.1e-02)", "rnn: holds (far/near 4.0e-03).") == []
    # a value or mean ± std ending the words goes (a part's name keeps its numbers)
    assert changes.verdict_parts("best there: rotary 0.229 ± 0.041; kept at T=256: none 0.35") == {
        "best there": "rotary", "kept at T=256": "none"}
    assert changes.moves("`adding`: does not hold (gru solves longer); `copying`: holds.",
                         "`adding`: holds; `copying`: holds (1.000); `recall`: holds.") == [
        ("adding", "does not hold", "holds"), ("recall", "-", "holds")]


def test_section_lists_each_move_and_its_why_only_for_that_exact_move(tmp_path, monkeypatch):
    assert changes.section_changes([("a", "holds.")], tmp_path) == []  # no baseline kept
    changes.write_baseline(OLD_PAGE, "abc1234", tmp_path)
    assert changes.read_baseline(tmp_path)[1] == (
        "`adding`: does not hold (gru solves longer); `copying`: holds.", "abc1234")
    monkeypatch.setitem(changes.WHY, (1, "adding", "does not hold", "no difference measured"),
                        "a reason")
    now = [("long-range dependencies",
            "`adding`: no difference measured (1.0 vs 1.0); `copying`: does not hold."),
           ("vanishing gradients", "rnn: holds (far/near 1e-09)."),
           ("parallelism and O(n²)", "")]
    lines = changes.section_changes(now, tmp_path)
    text = "\n".join(lines)
    assert "commit abc1234" in text and "1 of 3 claims moved" in text
    row = next(line for line in lines if line.startswith("| 1 |"))
    assert "`adding`: does not hold → no difference measured" in row
    assert "`copying`: holds → does not hold" in row
    assert "`adding`: a reason" in row and "`copying`: not explained yet" in row
    assert "| 2 | vanishing gradients | same |" in text
    assert "| 3 | parallelism and O(n²) | not measured yet on this page |" in text


def test_chosen_text_names_each_settings_value_and_how_many_were_tried():
    frame = pd.DataFrame({
        "variant": ["learned", "learned", "none"], "model": ["t"] * 3,
        "task": ["copying"] * 3, "tried": [3, 3, 3],
        "chosen": ["learning_rate=0.001", "learning_rate=0.001", "learning_rate=0.003"]})
    assert chosen_text(frame) == ("Chosen on validation, of 3 values tried: lr 0.001 for "
                                  "learned; lr 0.003 for none.")
    assert chosen_text(frame.assign(tried=1)) == ""
    # a variant named as its model (ViT's claim) is named once
    models = frame.assign(variant=["t", "t", "u"], model=["t", "t", "u"])
    assert chosen_text(models) == "Chosen on validation, of 3 values tried: lr 0.001 for t; lr 0.003 for u."


def test_a_page_without_records_leaves_no_plot_or_csv_of_old_ones(tmp_path):
    from zoo.report import claims

    results = tmp_path / "results"
    results.mkdir()
    for name in ("claims_gradients.png", "claims.csv", "speed_x.png"):
        (results / name).write_bytes(b"old")
    (tmp_path / "runs" / "claims").mkdir(parents=True)
    written = claims.write_report(tmp_path / "runs" / "claims", results)
    assert [p.name for p in written] == ["claims.md"]
    assert sorted(p.name for p in results.iterdir()) == ["claims.md", "speed_x.png"]
    assert "No records yet for this claim (claim_heads" in (results / "claims.md").read_text()


def test_long_range_counts_the_cells_that_chose_an_edge_of_the_grid():
    from zoo.report.claims.long_range import _chosen_lines

    rows = []
    for length, chosen in ((25, 0.01), (100, 0.001)):
        for rate in (0.001, 0.003, 0.01):
            rows.append({"task": "adding", "input_length": length, "model": "gru_small",
                         "family": "gru", "task_knobs": "", "model_overrides": None,
                         "budget": "b", "search_value": f"learning_rate={rate}", "tried": 3,
                         "selected": rate == chosen})
    line = _chosen_lines(pd.DataFrame(rows), ["gru"])[0]
    assert "gru lr 0.001 ×1, lr 0.01 ×1 (the largest tried in 1 of 2, the smallest in 1)" in line
    assert _chosen_lines(pd.DataFrame(rows).assign(tried=1), ["gru"]) == []


def test_a_verdict_word_before_its_numbers_is_the_verdict_not_a_part():
    before = "holds: vit_small 0.835 ± 0.008 in 6.8 s to 0.30, vs lstm_small 0.348 in 80.2 s."
    assert changes.verdict_parts(before) == {"": "holds"}
    assert changes.moves(before, "holds: vit_small 0.8 in 5 s to 0.35, vs lstm_small 0.3.") == []
    assert changes.moves(before, "no difference measured: vit_small 0.8, vs lstm_small 0.7.") \
        == [("", "holds", "no difference measured")]


def test_a_claim_with_too_few_records_is_not_measured_yet_not_a_move(tmp_path):
    baseline = "claim,name,verdict,commit\n1,vanishing gradients,rnn: holds (far/near 0.1),abc\n"
    (tmp_path / changes.BASELINE).write_text(baseline)
    lines = changes.section_changes(
        [("vanishing gradients", "not measured yet (the rule compares with the Transformer)")],
        tmp_path)
    assert "| 1 | vanishing gradients | not measured yet on this page |  |" in lines
