"""A slice of `long_range` for timing parallel sweeps (README, "Parallel sweeps").

Every family on `adding` at T=25, seed 0, at the three learning rates it
was measured with (3e-4, 1e-3, 3e-3; long_range now searches 1e-2 too): 24
runs with long_range's run ids, so their records are long_range records.
Timed as

    zoo run benchmarks/parallel_long_range.py --out OUT --workers 1
    zoo run benchmarks/parallel_long_range.py --out OUT --workers 2
    zoo run benchmarks/parallel_long_range.py --out OUT --ray

each into its own empty OUT (the sweep prints its wall time at the end).
"""

from zoo.experiments import long_range

DESCRIPTION = "long_range's adding runs at T=25, seed 0 (24 runs): the parallel-sweep timing"


MEASURED_RATES = (3e-4, 1e-3, 3e-3)


def runs(profile="quick"):
    tasks = long_range.QUICK if profile == "quick" else long_range.FULL
    shortest = min(tasks["adding"][1])
    return [run for run in long_range.runs(profile)
            if run.task == "adding" and run.seed == 0
            and run.task_knobs["sequence_length"] == shortest
            and run.learning_rate in MEASURED_RATES]
