"""The published numbers: one `Published` entry each, with its source, the
setting it was measured in, its spread when the source gives one, and the
conventions a reader must know to compare it with ours (values on the zoo's
0..1 scale). `zoo.published.rows` says which of our runs each is read beside."""

import dataclasses
from typing import Optional


@dataclasses.dataclass(frozen=True)
class Published:
    """One published number.

    name: unique key, e.g. `"keras_io_imdb_transformer"`.
    row: the `reproduce` row it belongs to (one row may hold several
        numbers, e.g. SCAN's best overall model and best per split).
    source: paper and table / figure, or example file.
    model: the model as the source describes it.
    setting: the source's data, budget and training, in one line.
    metric: what the number measures (`"accuracy"`, `"exact_match"`,
        `"token_accuracy"`, ...), in the zoo's metric names.
    value: the number, on the zoo's scale (0..1).
    spread: the source's spread as `(low, high)` when it gives one (error
        bars, a range over runs), else None.
    at_least: the source says "above `value`" (a threshold), not a value.
    conventions: how the source's protocol differs from the zoo's usual
        one, each a short sentence the report prints in the row.
    checked: how the number was checked for this module.
    """

    name: str
    row: str
    source: str
    model: str
    setting: str
    metric: str
    value: float
    spread: Optional[tuple] = None
    at_least: bool = False
    conventions: tuple = ()
    checked: str = ""


KERAS_IO_TEST_VALIDATION = ("keras-io validates on the test split (25k reviews) and reports "
                            "the last epoch's validation accuracy; one run, no spread.")
_KERAS_IO_IMDB = ("IMDB, keras.datasets.imdb 20k-word vocabulary, reviews padded/truncated to "
                  "200 tokens at the front, 25k train / 25k test, Adam 1e-3, batch 32, 2 epochs")
_SCAN = "Lake & Baroni 2018 (ICML), \"Generalization without Systematicity\""
_SCAN_SETTING = ("SCAN commands -> actions; 100k training presentations of batch 1, Adam 1e-3, "
                 "teacher forcing half the time, gradient clipping at 5; greedy decoding; mean "
                 "of 5 runs")
_SCAN_CONVENTION = ("exact match of the whole action sequence over the test split; the paper "
                    "has no validation split (ours is carved from training).")
_MAMBA = "Gu & Dao 2023, \"Mamba\", Table 11 (appendix E.1)"
_MAMBA_SETTING = ("induction heads, vocabulary 16, trained at length 2^8 = 256 on fresh random "
                  "batches of 8, Adam without weight decay at constant 2e-4; 2-layer models, "
                  "D = 64, 137K parameters")
_LRA = "Long Range Arena, Tay et al. 2021 (ICLR), Table 1 (and the LRA README)"
_S4 = "Gu, Goel & Ré 2022, \"S4\" (ICLR), pixel-level sequential image table (Table 6)"

# Table 11 of Mamba, accuracy by test length 2^6 .. 2^14 (attention ran out of memory beyond)
_TABLE_11 = {
    "MHA-Abs": (1.0, 0.996, 1.0, 0.586, 0.266, 0.188, 0.098, 0.109, 0.078),
    "MHA-RoPE": (1.0, 1.0, 1.0, 0.836, 0.313, 0.184, 0.086, 0.090, 0.055),
}
_TABLE_11_STEPS = {"MHA-Abs": "25 epochs of 8,192 steps", "MHA-RoPE": "50 epochs of 8,192 steps"}

ENTRIES = (
    Published(
        "keras_io_imdb_transformer", "imdb_transformer",
        "keras-io, \"Text classification with Transformer\" "
        "(examples/nlp/text_classification_with_transformer.py)",
        "token + learned position embedding 32, one post-norm block: 2 heads of 32 "
        "(key_dim = embed_dim), FFN 32, dropout 0.1, LayerNorm eps 1e-6; global average "
        "pooling, dropout 0.1, Dense(20, relu), dropout 0.1, softmax over 2; no padding mask",
        _KERAS_IO_IMDB, "accuracy", 0.8745,
        conventions=(KERAS_IO_TEST_VALIDATION,),
        checked="the example's printed output, as quoted in DESIGN.md and issue 17",
    ),
    Published(
        "keras_io_imdb_bilstm", "imdb_bilstm",
        "keras-io, \"Bidirectional LSTM on IMDB\" (examples/nlp/bidirectional_lstm_imdb.py)",
        "Embedding 128, two Bidirectional(LSTM(64)), the second returning its final states, "
        "Dense(1, sigmoid); no padding mask",
        _KERAS_IO_IMDB, "accuracy", 0.8428,
        conventions=(KERAS_IO_TEST_VALIDATION,),
        checked="the example's printed output, as quoted in DESIGN.md and issue 17",
    ),
    Published(
        "keras_io_addition_rnn", "addition_rnn",
        "keras-io, \"Sequence to sequence learning for performing number addition\" "
        "(examples/nlp/addition_rnn.py)",
        "one-hot characters, LSTM(128) encoder, RepeatVector(4), LSTM(128) decoder, "
        "softmax over 12 characters per step (205,324 parameters)",
        "3-digit addition, queries reversed, 50k distinct questions (digit count drawn "
        "first), 45k train / 5k validation, Adam 1e-3, batch 32, 29 epochs",
        "token_accuracy", 0.9883,
        conventions=("addition_rnn reports per-character accuracy (Keras 'accuracy' over the 4 "
                     "answer characters, trailing spaces included), not exact match.",
                     "the number is the validation accuracy after the last of 29 epochs of one "
                     "run (epoch 28 read 0.9754); its validation split is held out from "
                     "training."),
        checked="read from the example's output (keras-io examples/nlp/md/addition_rnn.md, "
                "iteration 29)",
    ),
    Published(
        "scan_simple_best_overall", "scan_simple", _SCAN + ", experiment 1",
        "the best overall model: LSTM encoder-decoder, 2 layers of 200 units, no attention, "
        "dropout 0.5",
        _SCAN_SETTING + "; random 80/20 split", "exact_match", 0.997,
        conventions=(_SCAN_CONVENTION,), checked="issue 17 (the paper's text)",
    ),
    Published(
        "scan_simple_best", "scan_simple", _SCAN + ", experiment 1",
        "the best model on this split (an LSTM encoder-decoder without attention)",
        _SCAN_SETTING + "; random 80/20 split", "exact_match", 0.998,
        conventions=(_SCAN_CONVENTION,), checked="issue 17 (the paper's text)",
    ),
    Published(
        "scan_length_best_overall", "scan_length", _SCAN + ", experiment 2",
        "the best overall model: LSTM encoder-decoder, 2 layers of 200 units, no attention, "
        "dropout 0.5",
        _SCAN_SETTING + "; trained on outputs of <= 22 actions, tested on 24-48",
        "exact_match", 0.138,
        conventions=(_SCAN_CONVENTION,), checked="issue 17 (the paper's text)",
    ),
    Published(
        "scan_length_best", "scan_length", _SCAN + ", experiment 2",
        "the best model on this split: GRU encoder-decoder with attention (not a zoo family)",
        _SCAN_SETTING + "; trained on outputs of <= 22 actions, tested on 24-48",
        "exact_match", 0.208,
        conventions=(_SCAN_CONVENTION,), checked="issue 17 (the paper's text)",
    ),
    Published(
        "scan_add_jump_best_overall", "scan_add_jump", _SCAN + ", experiment 3",
        "the best overall model: LSTM encoder-decoder, 2 layers of 200 units, no attention, "
        "dropout 0.5",
        _SCAN_SETTING + "; 'jump' seen only alone in training", "exact_match", 0.0008,
        conventions=(_SCAN_CONVENTION,), checked="issue 17 (the paper's text)",
    ),
    Published(
        "scan_add_jump_best", "scan_add_jump", _SCAN + ", experiment 3",
        "the best model on this split: GRU encoder-decoder with attention (not a zoo family)",
        _SCAN_SETTING + "; 'jump' seen only alone in training", "exact_match", 0.012,
        conventions=(_SCAN_CONVENTION,), checked="issue 17 (the paper's text)",
    ),
    Published(
        "zoology_mqar_attention", "mqar_attention",
        "Arora et al. 2023, \"Zoology\", Figure 2 (MQAR, attention)",
        "2-layer model, width 64, multi-head attention (1 head, dropout 0.1) and MLP blocks, "
        "learned positions",
        "multi-query associative recall, T = 64, 4 key-value pairs, vocabulary 8,192, 100k "
        "training / 3k test examples, learning rate best of np.logspace(-4, -2, 4)",
        "accuracy", 0.99, at_least=True,
        conventions=("Zoology plots attention as solving MQAR at every width; the number is "
                     "a threshold (> 99 % accuracy on the query positions), not a reading.",
                     "Zoology reports the best of its learning-rate sweep."),
        checked="issue 17 and DESIGN.md (the figure shows attention at ~100 %)",
    ),
) + tuple(
    Published(
        f"mamba_induction_{model.lower().replace('-', '_')}_{2 ** power}",
        f"induction_{model.lower().replace('-', '_')}",
        _MAMBA, f"{model}: 2-layer attention with "
        + ("absolute (learned) positions" if model == "MHA-Abs" else "rotary positions"),
        f"{_MAMBA_SETTING}; {_TABLE_11_STEPS[model]}; scored at length {2 ** power}",
        "accuracy", value,
        conventions=("accuracy on the answer token at each test length; the model is trained "
                     "only at 256.",),
        checked="Table 11 as transcribed (2^6 and 2^7 printed as check marks = 100 %)",
    )
    for model, values in _TABLE_11.items()
    for power, value in zip(range(6, 15), values)
) + (
    Published(
        "lra_listops_transformer", "lra_listops", _LRA,
        "Transformer, LRA's base configuration", "ListOps, lengths up to 2K, 10 classes",
        "accuracy", 0.3637,
        conventions=("LRA tokens drop the closing brackets (our bracket fix keeps them).",
                     "LRA reports one number per task; its average is given with and without "
                     "Path-X."),
        checked="DESIGN.md and issue 17",
    ),
    Published(
        "lra_text_transformer", "lra_text", _LRA,
        "Transformer, LRA's base configuration", "byte-level IMDB, length 4K (1K in its config)",
        "accuracy", 0.6427,
        conventions=("LRA reads raw review bytes; ours are rebuilt from Keras's word index "
                     "(lowercase, no punctuation).",),
        checked="DESIGN.md and issue 17",
    ),
    Published(
        "lra_image_transformer", "lra_image", _LRA,
        "Transformer, LRA's base configuration",
        "grayscale CIFAR-10 as 1024 pixel tokens", "accuracy", 0.4244,
        checked="DESIGN.md and issue 17",
    ),
    Published(
        "s4_smnist_lstm", "smnist_lstm", _S4, "LSTM", "MNIST pixel by pixel, 784 steps",
        "accuracy", 0.989, checked="issue 17 (as collected in the S4 paper)",
    ),
    Published(
        "s4_pmnist_lstm", "pmnist_lstm", _S4, "LSTM", "permuted MNIST, 784 steps",
        "accuracy", 0.9511,
        conventions=("each paper draws its own fixed permutation.",),
        checked="issue 17 (as collected in the S4 paper)",
    ),
    Published(
        "s4_smnist_transformer", "smnist_transformer", _S4, "Transformer",
        "MNIST pixel by pixel, 784 steps", "accuracy", 0.989,
        checked="issue 17 (as collected in the S4 paper)",
    ),
    Published(
        "s4_pmnist_transformer", "pmnist_transformer", _S4, "Transformer",
        "permuted MNIST, 784 steps", "accuracy", 0.979,
        conventions=("each paper draws its own fixed permutation.",),
        checked="issue 17 (as collected in the S4 paper)",
    ),
)

_BY_NAME = {entry.name: entry for entry in ENTRIES}
if len(_BY_NAME) != len(ENTRIES):
    raise ValueError("zoo.published: two entries share a name.")


def get(name):
    """The entry called `name`; `KeyError` lists the valid names."""
    if name not in _BY_NAME:
        raise KeyError(f"Unknown published number {name!r}. Valid: {sorted(_BY_NAME)}")
    return _BY_NAME[name]


def for_row(row):
    """The entries whose `row` is `row`, in the order above."""
    return [entry for entry in ENTRIES if entry.row == row]
