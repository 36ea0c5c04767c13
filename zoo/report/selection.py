"""The fair protocol on a page: the choice is `zoo.choice` (shared with the
sweep, which may train further seeds at the chosen value only); this module
is the reports' name for it and the paragraph every page states it in."""

from zoo.choice import (  # noqa: F401 (the reports' names for them)
    as_float,
    cell_key,
    choose,
    common_seeds,
    configuration_key,
    group_records,
    higher_is_better,
    search_value,
    searched,
    select_records,
    select_records_tried,
    validation_mean,
    validation_score,
)

PROTOCOL = (
    "Protocol: where an experiment searched a setting (the learning rate, ...), for each "
    "comparison cell (model, task, knobs and budget but the searched settings) the value "
    "with the best mean validation score was chosen (a diverged seed scores the task's "
    "baseline) and the test score is reported at that value only. The values are compared "
    "on the seeds all of them have finished: every seed where an experiment trains every "
    "value with every seed, the selection seeds where it trains the further seeds at the "
    "chosen value only (long_range and the claims: seed 0), and the seeds finished so far "
    "while a sweep is under way (the seeds column counts those reported). Test scores play no "
    "part in the choice. The CSV keeps every value's row (`selected` marks the choice)."
)
