"""Probes: measurements of a trained (or freshly initialised) model beyond
its test score, recorded by the runner under `record["probes"]` when a run
lists them (`Run(probes=("gradients",))`).

- `gradients`: `zoo.runner.diagnostics.gradient_by_distance` on test examples, at
  initialisation and after training (the vanishing-gradient claim).
- `leak`: does an output depend on later inputs? Tokens after a cut are
  replaced and the change of the predicted distributions before the cut is
  measured; 0 for a causal model (the masked-attention claim).
- `generation`: greedy autoregressive generation from the task's prompts,
  each generated token fed back as the next input, scored against the
  true continuation (the masked-attention claim: a model that learnt to
  read the next token off its input cannot generate).

Every probe uses the model's forward pass (and `zoo.measure.backend` for
gradients), so it runs on every backend.
"""

import keras
import numpy as np

from zoo.runner import diagnostics
from zoo.tasks.base import Split

PROBES = ("gradients", "leak", "generation")
AT_INIT = ("gradients",)  # probes also taken before training
NUM_EXAMPLES = 256


def check(names, model, task):
    """Raise a clear error for a probe name the runner does not know, or one
    that does not fit the task, before anything trains."""
    for name in names:
        if name not in PROBES:
            raise ValueError(f"Unknown probe {name!r} of run {model} on {task.name}; "
                             f"valid: {list(PROBES)}")
    spec = task.spec
    needs_positions = [n for n in names if n in ("leak", "generation")]
    if needs_positions and (spec.output_kind != "class_per_position"
                            or spec.input_kind != "tokens"):
        raise ValueError(
            f"Probes {needs_positions} need a token task with an output per position; "
            f"task {task.name!r} has input_kind={spec.input_kind!r}, "
            f"output_kind={spec.output_kind!r} (e.g. repeat_lm fits)")
    if "generation" in names and not hasattr(task, "prompt_length"):
        raise ValueError(f"Probe 'generation' needs a task with prompts (prompt_length()); "
                         f"task {task.name!r} has none (e.g. repeat_lm has)")


def measure(names, model, task, data, stage):
    """`{probe: result}` for the probes of `names` taken at `stage`
    (`"init"` or `"trained"`)."""
    results = {}
    for name in names:
        if stage == "init" and name not in AT_INIT:
            continue
        results[name] = globals()[name](model, task, data)
    return results


def merge(at_init, trained):
    """One record entry: probes taken at both stages as `{"init", "trained"}`."""
    merged = {}
    for name, value in trained.items():
        merged[name] = {"init": at_init[name], "trained": value} if name in at_init else value
    return merged


def _probabilities(model, inputs):
    logits = keras.ops.convert_to_numpy(model(inputs, training=False)).astype("float64")
    logits -= logits.max(axis=-1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=-1, keepdims=True)


def gradients(model, task, data, num_examples=64):
    """Gradient norm of the last output's loss by distance to it (`norms[k]`
    for the input `k` steps before)."""
    norms = diagnostics.gradient_by_distance(model, task.spec, data.test, num_examples)
    return [float(v) for v in norms]


def leak(model, task, data, num_examples=NUM_EXAMPLES, seed=0):
    """How much the outputs up to a cut change when every token after it is
    replaced: `max_change` (largest absolute change of a predicted
    probability at steps <= cut) and `mean_change` (mean total-variation
    distance per step <= cut). A causal model gives 0 (to rounding)."""
    inputs = np.asarray(Split(*data.test).take(0, num_examples).inputs)
    length = inputs.shape[1]
    cut = length // 2
    rng = np.random.default_rng(seed)
    changed = inputs.copy()
    vocabulary = task.spec.vocabulary_size
    # a different token at every step after the cut
    changed[:, cut + 1:] = (inputs[:, cut + 1:] + rng.integers(
        1, vocabulary, size=changed[:, cut + 1:].shape)) % vocabulary
    before = _probabilities(model, inputs)[:, :cut + 1]
    after = _probabilities(model, changed)[:, :cut + 1]
    difference = np.abs(before - after)
    return {
        "cut": int(cut),
        "length": int(length),
        "max_change": float(difference.max()),
        "mean_change": float(0.5 * difference.sum(axis=-1).mean()),
    }


def generation(model, task, data, num_examples=NUM_EXAMPLES):
    """Greedy generation after the task's prompt, each output fed back.

    Steps not generated yet hold 0 (the blank). Returns `token_accuracy`
    (generated tokens equal to the true continuation) and
    `sequence_accuracy` (whole continuations right), next to
    `teacher_forced_accuracy` on the same steps (true inputs throughout).
    """
    split = Split(*data.test).take(0, num_examples)
    inputs, targets = np.asarray(split.inputs), np.asarray(split.targets)
    prompt = task.prompt_length()
    length = inputs.shape[1]
    canvas = np.zeros_like(inputs)
    canvas[:, :prompt] = inputs[:, :prompt]
    generated = np.zeros_like(targets)
    for step in range(prompt - 1, length):
        logits = keras.ops.convert_to_numpy(model(canvas, training=False))
        token = logits[:, step].argmax(axis=-1)
        generated[:, step] = token
        if step + 1 < length:
            canvas[:, step + 1] = token
    teacher = keras.ops.convert_to_numpy(model(inputs, training=False)).argmax(axis=-1)
    right = generated[:, prompt - 1:] == targets[:, prompt - 1:]
    return {
        "prompt_length": int(prompt),
        "generated_steps": int(length - prompt + 1),
        "token_accuracy": float(right.mean()),
        "sequence_accuracy": float(right.all(axis=1).mean()),
        "teacher_forced_accuracy": float(
            (teacher[:, prompt - 1:] == targets[:, prompt - 1:]).mean()),
    }
