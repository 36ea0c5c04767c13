"""long_range: the sequence families on four long-range-dependency tasks at
growing lengths, equal parameter budget (the `_small` presets, ~66k mixer
parameters) and equal step budget, three seeds.

Which family solves which length? The tasks separate what they stress:
`adding` (hold two marked values over T steps, regression), `copying`
(reproduce 10 symbols after a delay of T blanks), `selective_copying`
(pick symbols out of noise by content) and `associative_recall` (look keys
up among key-value pairs). The `quick` profile is sized for a 2-core CPU
(lengths 10 to 100, 300 steps of 64 examples); `full` is meant for an
accelerator (lengths 1K-16K, more steps).
"""

from zoo.runner import Run

DESCRIPTION = ("rnn/lstm/gru/transformer small (+ transformer_decoder in full) on adding, "
               "copying, selective_copying, associative_recall at growing lengths, 3 seeds")

# The causal transformer_decoder joins on an accelerator; on 2 CPU cores the
# quick sweep (144 runs) is already about an hour.
FAMILIES = {"quick": ("rnn", "lstm", "gru", "transformer"),
            "full": ("rnn", "lstm", "gru", "transformer", "transformer_decoder")}
SEEDS = (0, 1, 2)

# task -> (fixed knobs, the lengths to sweep) per profile
QUICK = {
    "adding": ({}, (25, 50, 100)),
    "copying": ({}, (10, 20, 40)),
    "selective_copying": ({"num_data_tokens": 8}, (16, 32, 64)),
    "associative_recall": ({"vocabulary_size": 64, "num_kv_pairs": 4}, (16, 32, 64)),
}
FULL = {
    "adding": ({}, (1000, 2000, 4000, 8000, 16000)),
    "copying": ({}, (1000, 2000, 4000, 8000, 16000)),
    "selective_copying": ({"num_data_tokens": 16}, (1024, 2048, 4096, 8192, 16384)),
    "associative_recall": ({"vocabulary_size": 8192, "num_kv_pairs": 64},
                           (1024, 2048, 4096, 8192, 16384)),
}
BUDGET = {
    # steps x batch, and the examples drawn for each split
    "quick": {"steps": 300, "batch_size": 64, "learning_rate": 3e-3,
              "sizes": {"num_train": 6400, "num_validation": 512, "num_test": 1024}},
    "full": {"steps": 5000, "batch_size": 32, "learning_rate": 1e-3,
             "sizes": {"num_train": 32000, "num_validation": 1024, "num_test": 2048}},
}


def runs(profile="quick"):
    if profile not in BUDGET:
        raise ValueError(f"Unknown profile {profile!r}; valid: {sorted(BUDGET)}")
    tasks = QUICK if profile == "quick" else FULL
    budget = BUDGET[profile]
    return [
        Run(
            model=f"{family}_small",
            task=task,
            task_knobs={**knobs, "sequence_length": length, **budget["sizes"]},
            steps=budget["steps"],
            batch_size=budget["batch_size"],
            learning_rate=budget["learning_rate"],
            seed=seed,
        )
        for task, (knobs, lengths) in tasks.items()
        for length in lengths
        for family in FAMILIES[profile]
        for seed in SEEDS
    ]
