"""The rows of `results/reproduce.md`: for each, the model as a preset plus
overrides, the task and its knobs, the budget, which published numbers it
is compared with, our setting and every way it differs from the source.
`zoo.experiments.reproduce` turns them into runs; `zoo.report.reproduce`
picks each row's records by comparing these dicts with the record's run."""

import dataclasses

from zoo.published.numbers import for_row, get

# ---------------------------------------------------------------- the rows

RECORDS_FOLDER = "results/runs/reproduce"  # where `zoo run reproduce --out` puts the records
SEEDS = (0, 1, 2)


@dataclasses.dataclass(frozen=True)
class Row:
    """One row of the reproduction table: the runs that rerun some published
    numbers, and how their records are read.

    name: the row's key (`Published.row` names it).
    title: the row in a few words, for a page's headings.
    profile: `"quick"` (a 2-core CPU) or `"full"` (an accelerator).
    model, model_overrides, task, task_knobs, budget: the runs, one per seed
        of `SEEDS`; `budget` holds the other `zoo.runner.Run` fields.
    readings: `(published name, split, metric)`: each published number, the
        split of the record set beside it (`"test"`, or an extra test such
        as `"test_length_512"`) and the metric read there.
    setting: our setting, in one line.
    differences: every way our setting differs from the source's.
    """

    name: str
    title: str
    profile: str
    model: str
    task: str
    readings: tuple
    setting: str
    differences: tuple
    model_overrides: dict = dataclasses.field(default_factory=dict)
    task_knobs: dict = dataclasses.field(default_factory=dict)
    budget: dict = dataclasses.field(default_factory=dict)

    def run_fields(self, seed):
        """The `zoo.runner.Run` fields of the run of `seed` (plain values)."""
        return dict(model=self.model, task=self.task, task_knobs=dict(self.task_knobs),
                    model_overrides=dict(self.model_overrides), seed=seed, **self.budget)

    def identity(self):
        """What a record's `run` must hold to be this row's: model, task, the
        task knobs, the model overrides and the budget (any seed)."""
        return _plain({"model": self.model, "task": self.task,
                       "task_knobs": dict(self.task_knobs),
                       "model_overrides": dict(self.model_overrides), **self.budget})

    def matches(self, run):
        """Whether a run (a record's `"run"` dict, or anything with `to_dict()`)
        is one of this row's: every field of `identity()` equal, as JSON
        gives it back (tuples read as lists)."""
        values = run.to_dict() if hasattr(run, "to_dict") else run
        values = _plain(dict(values or {}))
        return all(values.get(key) == value for key, value in self.identity().items())

    def only_pattern(self):
        """The `--only` pattern of this row's run ids (`model--task--s<seed>--<hash>`)."""
        return f"{self.model}--{self.task}--*"

    def command(self):
        """The command that trains this row's runs (with `sharing_command(self)`'s)."""
        return (f"zoo run reproduce --profile {self.profile} --out {RECORDS_FOLDER} "
                f"--only '{self.only_pattern()}'")

    def entries(self):
        """The published entries of `readings`, in their order."""
        return [get(name) for name, _, _ in self.readings]


def _plain(value):
    """A value as JSON gives it back: tuples become lists, at any depth."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return value


# ---------------------------------------------------------------- the models, as overrides

# keras-io "Text classification with Transformer": 657,758 parameters at 20k x 200
KERAS_IO_TRANSFORMER = dict(hidden_dim=32, num_layers=1, num_heads=2, head_dim=32,
                            normalize_first=False,
                            intermediate_dim=32, dropout=0.1, norm_epsilon=1e-6,
                            mask_padding=False, head_units=20, head_dropout=0.1)
# keras-io "Bidirectional LSTM on IMDB": Embedding 128, two BiLSTM(64)
KERAS_IO_BILSTM = dict(hidden_dim=64, num_layers=2, embedding_dim=128, bidirectional=True,
                       mask_padding=False)
# keras-io addition_rnn: LSTM(128) encoder, RepeatVector, LSTM(128) decoder
KERAS_IO_ADDITION = dict(hidden_dim=128, num_layers=1, embedding_dim=12, attention=False,
                         decoder_input="encoder_output")
# Lake & Baroni 2018's best overall model: LSTM 2 x 200, no attention, dropout 0.5
SCAN_BEST_OVERALL = dict(hidden_dim=200, num_layers=2, dropout=0.5, attention=False)
# Zoology's attention on MQAR: 2 layers, width 64, 1 head, dropout 0.1, MLP x4
ZOOLOGY_ATTENTION = dict(hidden_dim=64, num_layers=2, num_heads=1, intermediate_dim=256,
                         dropout=0.1)
# Mamba Table 11's attention: 2 layers, D = 64 (heads not stated; the preset's 4)
MAMBA_ATTENTION = dict(hidden_dim=64, num_layers=2, num_heads=4, intermediate_dim=256)

_KERAS_IO_IMDB_DIFFERENCES = (
    "as keras-io, we train on all 25k training reviews and validate on the 25k test reviews "
    "(knob validation='test'); the test score is then the best of the 2 epochs' (keras-io: "
    "the last epoch's)",
    "two softmax logits with sparse cross-entropy where keras-io's BiLSTM has one sigmoid "
    "unit (129 head parameters vs our 258)",
)
_IMDB_BUDGET = dict(epochs=2, batch_size=32, learning_rate=1e-3)

_SCAN_DIFFERENCES = (
    "1,500 steps of batches of 32 (48k presentations) where the paper trains on 100k "
    "single examples (a 2-core CPU budget)",
    "teacher forcing on every step (the paper: half the time)",
    "the decoder starts from the encoder's final states, layer by layer, as the paper's; "
    "dropout only after the decoder's layers",
    "a validation split of 200 commands is carved from training (the paper has none), and "
    "the test split is scored at the best validation epoch",
    "scored on a fixed subset of 500 test commands (greedy decoding re-runs the decoder at "
    "each of 49 steps, which a CPU pays for); the paper scores the whole test split",
)
_SCAN_BEST_PER_SPLIT = {
    "simple": "the best model on this split is another LSTM encoder-decoder without attention; "
              "its number is set beside our best-overall configuration",
    "length": "the best model on this split is a GRU encoder-decoder with attention, not a zoo "
              "family: its number is set beside our best-overall configuration",
    "add_jump": "the best model on this split is a GRU encoder-decoder with attention, not a zoo "
                "family: its number is set beside our best-overall configuration",
}
_SCAN_BUDGET = dict(steps=1500, batch_size=32, learning_rate=1e-3, clipnorm=5.0)


def _scan_row(split):
    return Row(
        f"scan_{split}", f"SCAN {split.replace('_', '-')} split, LSTM encoder-decoder", "quick",
        "seq2seq_lstm_small", "scan",
        readings=tuple((entry.name, "test", "exact_match")
                       for entry in for_row(f"scan_{split}")),
        setting=(f"SCAN {split} split (all 20,910 commands; the authors' split files), "
                 f"LSTM encoder-decoder 2 x 200 without attention, dropout 0.5; "
                 f"Adam 1e-3, clipnorm 5, 1,500 steps of 32; greedy decoding on 500 "
                 f"test commands"),
        differences=_SCAN_DIFFERENCES + (_SCAN_BEST_PER_SPLIT[split],)
        + (("the simple split is one fixed random 80/20 draw of ours, not the authors' file",)
           if split == "simple" else ()),
        model_overrides=SCAN_BEST_OVERALL,
        task_knobs={"split": split, "num_validation": 200, "num_test": 500},
        budget=_SCAN_BUDGET,
    )


# test lengths: to 1,024 on a CPU; Mamba's 2^6 .. 2^14 on an accelerator
_INDUCTION_LENGTHS = {"quick": (64, 128, 256, 512, 1024), "full": tuple(2**p for p in range(6, 15))}
# Mamba's budget (Table 11, appendix E.1): epochs of 8,192 steps of 8
_MAMBA_EPOCHS = {"MHA-Abs": 25, "MHA-RoPE": 50}
_MAMBA_EPOCH_STEPS = 8192


def _induction_row(model, profile="quick"):
    key = model.lower().replace("-", "_")
    lengths = _INDUCTION_LENGTHS[profile]
    positions = "learned" if model == "MHA-Abs" else "rotary"
    architecture = (f"causal pre-norm Transformer, 2 layers, D 64, 4 heads, MLP 256, "
                    f"{positions} positions")
    common = (
        "the number of heads is not stated in the appendix; ours 4",
        "MHA-Abs read as learned absolute positions, sized to the longest test length "
        "(positions past 256 are never trained)",
        "the loss is on the answer token only (one label per sequence)",
    )
    if profile == "quick":
        recipe = "Adam 1e-3 warm-up + cosine, 1,500 steps of 32"
        differences = (
            "1,500 steps of 32 (48k sequences) where Mamba trains 204,800 (MHA-Abs) or "
            "409,600 (MHA-RoPE) steps of 8 at a constant 2e-4; at 2e-4 our budget does not "
            "learn the task, so we use 1e-3 with warm-up and cosine decay",
            "test lengths stop at 1,024 on the CPU (Mamba: to 2^14 for attention, which then "
            "ran out of memory); longer ones are scored by the row of profile full",
        ) + common
        task_knobs = {"num_train": 48000}
        budget = dict(steps=1500, batch_size=32, learning_rate=1e-3, schedule="warmup_cosine")
    else:
        epochs = _MAMBA_EPOCHS[model]
        steps = epochs * _MAMBA_EPOCH_STEPS
        recipe = (f"Adam at a constant 2e-4, {epochs} epochs of 8,192 steps of 8 "
                  f"({steps:,} steps), the whole budget trained")
        differences = (
            f"a fixed training set of 65,536 sequences (8,192 steps of 8) seen {epochs} times, "
            "where Mamba draws fresh random batches",
            "validation (500 sequences at length 256) after each epoch; test scored with the "
            "best validation epoch's weights, not the last",
        ) + common
        task_knobs = {"num_train": _MAMBA_EPOCH_STEPS * 8}
        budget = dict(steps=steps, batch_size=8, learning_rate=2e-4, schedule="constant",
                      patience=None)
    return Row(
        f"induction_{key}" if profile == "quick" else f"induction_{key}_full",
        f"Mamba Table 11, induction heads, {model}", profile,
        "transformer_decoder_small", "induction_heads",
        readings=tuple(
            (f"mamba_induction_{key}_{length}", f"test_length_{length}", "accuracy")
            for length in lengths),
        setting=(f"induction heads, vocabulary 16, trained at 256, scored at "
                 f"{', '.join(map(str, lengths))}; {architecture}; {recipe}"),
        differences=differences,
        model_overrides={**MAMBA_ATTENTION, "position": positions},
        task_knobs={"sequence_length": 256, "test_lengths": lengths, "vocabulary_size": 16,
                    **task_knobs, "num_validation": 500, "num_test": 1000},
        budget=budget,
    )


def _mqar_row(profile, vocabulary_size):
    quick = profile == "quick"
    steps, examples = (1500, 96000) if quick else (6400, 100000)
    return Row(
        "mqar_attention" if quick else "mqar_attention_8192",
        f"Zoology MQAR, attention, vocabulary {vocabulary_size:,}", profile,
        "transformer_decoder_small", "associative_recall",
        readings=(("zoology_mqar_attention", "test", "accuracy"),),
        setting=(f"MQAR, T = 64, 4 key-value pairs, vocabulary {vocabulary_size:,}; causal "
                 "pre-norm Transformer, 2 layers, width 64, 1 head, MLP 256, dropout 0.1; "
                 f"Adam 2.15e-3 (a point of Zoology's grid) warm-up + cosine, {steps:,} "
                 "steps of 64"),
        differences=(
            (f"{steps:,} steps of 64 on {examples // 1000}k examples where Zoology trains "
             "many epochs over 100k",
             "one learning rate (2.15e-3 of Zoology's np.logspace(-4, -2, 4)), not the best "
             "of the four",
             "Zoology trains the causal LM on every position; we train and score the "
             "query positions only")
            + (("vocabulary 256 (Zoology's basic example) where Figure 2 uses 8,192: the "
                "8,192-way output at every position costs a CPU ~2 s a step",) if quick else ())
        ),
        model_overrides=ZOOLOGY_ATTENTION,
        task_knobs={"sequence_length": 64, "vocabulary_size": vocabulary_size,
                    "num_kv_pairs": 4, "num_train": examples, "num_validation": 500,
                    "num_test": 3000},
        budget=dict(steps=steps, batch_size=64, learning_rate=2.15e-3,
                    schedule="warmup_cosine",
                    **({} if quick else {"precision": "mixed_bfloat16", "jit_compile": True})),
    )


_FULL_BUDGET = dict(batch_size=32, learning_rate=5e-4, schedule="warmup_cosine",
                    precision="mixed_bfloat16", jit_compile=True)
_LRA_DIFFERENCES = (
    "our Transformer base (d 256, 4 layers, 4 heads, MLP 1024, learned positions, mean "
    "pooling) for LRA's per-task configurations",
    "AdamW-free Adam with warm-up + cosine at 5e-4 and our step budget, not LRA's "
    "schedules",
)

ROWS = (
    Row(
        "imdb_transformer", "keras-io IMDB Transformer", "quick", "transformer_small", "imdb",
        readings=(("keras_io_imdb_transformer", "test", "accuracy"),),
        setting=("IMDB, 20k words, maxlen 200; keras-io's Transformer exactly (657,758 "
                 "parameters); Adam 1e-3, batch 32, 2 epochs"),
        differences=_KERAS_IO_IMDB_DIFFERENCES[:1] + (
            "dropout also inside the feed-forward network (after its ReLU), where keras-io "
            "drops only the attention and feed-forward outputs",),
        model_overrides=KERAS_IO_TRANSFORMER, task_knobs={"validation": "test"},
        budget=_IMDB_BUDGET,
    ),
    Row(
        "imdb_bilstm", "keras-io IMDB bidirectional LSTM", "quick", "lstm_small", "imdb",
        readings=(("keras_io_imdb_bilstm", "test", "accuracy"),),
        setting=("IMDB, 20k words, maxlen 200; Embedding 128 + two BiLSTM(64), padding not "
                 "masked; Adam 1e-3, batch 32, 2 epochs"),
        differences=_KERAS_IO_IMDB_DIFFERENCES,
        model_overrides=KERAS_IO_BILSTM, task_knobs={"validation": "test"},
        budget=_IMDB_BUDGET,
    ),
    Row(
        "addition_rnn", "keras-io addition_rnn, LSTM encoder-decoder", "quick",
        "seq2seq_lstm_small", "addition",
        readings=(("keras_io_addition_rnn", "test", "token_accuracy"),),
        setting=("3-digit addition, reversed queries, 45k train / 5k validation / 5k test; "
                 "LSTM(128) encoder, repeated final output, LSTM(128) decoder; Adam 1e-3, "
                 "batch 32, up to 29 epochs; per-character accuracy on test"),
        differences=(
            "a learned 12-wide embedding of 14 ids where keras-io feeds one-hot vectors of "
            "12 characters (205,750 parameters vs 205,324)",
            "operands drawn uniformly and split by a fixed hash (keras-io draws the digit "
            "count first and keeps unseen pairs), so short questions are rarer",
            "scored on a held-out test split with the best validation epoch's weights; "
            "training stops early once validation exact match reaches 0.99 (keras-io "
            "reports validation after the last of 29 epochs)",
        ),
        model_overrides=KERAS_IO_ADDITION,
        task_knobs={"digits": 3, "reverse_query": True, "num_train": 45000,
                    "num_validation": 5000, "num_test": 5000},
        budget=dict(epochs=29, batch_size=32, learning_rate=1e-3),
    ),
    _scan_row("simple"),
    _scan_row("length"),
    _scan_row("add_jump"),
    _mqar_row("quick", 256),
    _induction_row("MHA-Abs"),
    _induction_row("MHA-RoPE"),
    _mqar_row("full", 8192),
    _induction_row("MHA-Abs", "full"),
    _induction_row("MHA-RoPE", "full"),
    Row(
        "lra_listops", "LRA ListOps, Transformer", "full", "transformer_base", "listops",
        readings=(("lra_listops_transformer", "test", "accuracy"),),
        setting="LRA ListOps (bracket fix), Transformer base, 5,000 steps of 32",
        differences=_LRA_DIFFERENCES + (
            "our ListOps keeps closing brackets (the bracket fix)",),
        task_knobs={"num_train": 96000, "num_validation": 2000, "num_test": 2000},
        budget=dict(steps=5000, **_FULL_BUDGET),
    ),
    Row(
        "lra_text", "LRA Text, Transformer", "full", "transformer_base", "imdb_bytes",
        readings=(("lra_text_transformer", "test", "accuracy"),),
        setting="byte-level IMDB at 4K, Transformer base, 20,000 steps of 32",
        differences=_LRA_DIFFERENCES + (
            "bytes rebuilt from Keras's word index (lowercase, no punctuation), not raw "
            "reviews",),
        task_knobs={"sequence_length": 4096},
        budget=dict(steps=20000, **_FULL_BUDGET),
    ),
    Row(
        "lra_image", "LRA Image, Transformer", "full", "transformer_base", "scifar",
        readings=(("lra_image_transformer", "test", "accuracy"),),
        setting="grayscale CIFAR-10 as 1024 pixels (LRA Image), Transformer base, 20,000 "
                "steps of 32",
        differences=_LRA_DIFFERENCES + (
            "LRU's and S4's sCIFAR rows are colour CIFAR; this is LRA's grayscale Image",),
        budget=dict(steps=20000, **_FULL_BUDGET),
    ),
    Row(
        "smnist_lstm", "sequential MNIST, LSTM", "full", "lstm_base", "smnist",
        readings=(("s4_smnist_lstm", "test", "accuracy"),),
        setting="MNIST pixel by pixel (784 steps), LSTM base (4 x 314), 20,000 steps of 32",
        differences=("our LSTM base, not each paper's LSTM; our budget",),
        budget=dict(steps=20000, **_FULL_BUDGET),
    ),
    Row(
        "pmnist_lstm", "permuted MNIST, LSTM", "full", "lstm_base", "pmnist",
        readings=(("s4_pmnist_lstm", "test", "accuracy"),),
        setting="permuted MNIST (our fixed permutation, seed 0), LSTM base, 20,000 steps of 32",
        differences=("our LSTM base, not each paper's LSTM; our budget",
                     "our own fixed permutation"),
        budget=dict(steps=20000, **_FULL_BUDGET),
    ),
    Row(
        "smnist_transformer", "sequential MNIST, Transformer", "full", "transformer_base", "smnist",
        readings=(("s4_smnist_transformer", "test", "accuracy"),),
        setting="MNIST pixel by pixel (784 steps), Transformer base, 20,000 steps of 32",
        differences=("our Transformer base, not the published baseline's; our budget",),
        budget=dict(steps=20000, **_FULL_BUDGET),
    ),
    Row(
        "pmnist_transformer", "permuted MNIST, Transformer", "full", "transformer_base", "pmnist",
        readings=(("s4_pmnist_transformer", "test", "accuracy"),),
        setting="permuted MNIST (our fixed permutation), Transformer base, 20,000 steps of 32",
        differences=("our Transformer base, not the published baseline's; our budget",
                     "our own fixed permutation"),
        budget=dict(steps=20000, **_FULL_BUDGET),
    ),
)


_ROWS_BY_NAME = {row.name: row for row in ROWS}
if len(_ROWS_BY_NAME) != len(ROWS):
    raise ValueError("zoo.published: two rows share a name.")


def rows(profile=None):
    """The rows of a profile (all of them for None)."""
    profiles = list(dict.fromkeys(row.profile for row in ROWS))  # zoo.names.PROFILES
    if profile is not None and profile not in profiles:
        raise ValueError(f"Unknown profile {profile!r}; valid: {profiles}")
    return [row for row in ROWS if profile is None or row.profile == profile]


def row(name):
    """The row called `name`; `KeyError` lists the valid names."""
    if name not in _ROWS_BY_NAME:
        raise KeyError(f"Unknown reproduce row {name!r}. Valid: {list(_ROWS_BY_NAME)}")
    return _ROWS_BY_NAME[name]


def sharing_command(row):
    """The other rows that `row.command()` also trains (same profile and pattern)."""
    return [other.name for other in ROWS if other is not row and other.profile == row.profile
            and other.only_pattern() == row.only_pattern()]
