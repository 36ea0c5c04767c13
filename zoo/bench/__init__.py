"""`zoo bench`: train and inference speed and peak memory by sequence length.

    zoo bench --families lstm,transformer --lengths 64,256,1024
    zoo bench --profile full         # the LRA Transformer's sizes, 1K-16K, bf16
    zoo bench --report-only          # tables and plots from the records

Profiles set the workload; an option given explicitly overrides its preset.
`quick` (the default on a CPU): `small` presets, batch 64, 64 to 4K tokens,
TensorFlow with and without XLA, float32. `full` (the default where an
accelerator is present): `base` presets (for the Transformer, the LRA text
model: 4 layers, d 256, 4 heads, MLP 1024), batch 32, 1K to 16K tokens,
compiled, mixed bfloat16; the report then adds model FLOP utilisation (MFU)
and Long Range Arena's published TPU figures beside `transformer_base`.

Every zoo family (`<family>_<size>` preset) is measured on every Keras
backend, and in the same run so are the implementations a user would pick
instead, at the same sizes (`zoo/bench/references.py`): Keras's own recurrent
layers and keras-hub's `TransformerEncoder` on each backend, and PyTorch's
`nn.RNN` / `nn.LSTM` / `nn.GRU` / `nn.TransformerEncoderLayer` in a process
without Keras.

How (DESIGN.md, "Measuring speed honestly"): one worker process per
implementation, family and backend (a Keras backend is fixed at import, and a
process's peak memory is its own). The worker measures the lengths in
ascending order; at each it builds the model, compiles it, runs warm-up steps
that are not timed, then times `train_on_batch` and `predict_on_batch` steps.
Both return NumPy values, so the device has finished before the clock is
read. A record keeps the median and every step's time, the peak memory (the
process's peak resident memory, reset per length on Linux, or the device's
peak allocation on an accelerator), the parameter counts, the forward FLOPs
(`zoo.measure.flops`), the precision, the environment and the load average. A
length whose train step takes longer than `--max-step-seconds`, or that runs
out of memory, is the last one tried. On a shared CPU, `--threads 1` pins
every worker to one core: PyTorch's thread pool in particular slows down by
orders of magnitude when its cores are busy.

Records are JSON files in `--out`, one per measurement, written atomically and
named by what was measured, so a rerun measures only what is missing. The
report (`zoo.report.speed`, `zoo report speed`) is regenerated from the
records alone: a CSV, a Markdown summary with ratios to the fastest
implementation, fitted scaling exponents and LSTM/Transformer crossover
lengths, and log-log plots.

    options.py     profiles, parsing, the plan of jobs (checked before any worker starts)
    records.py     one JSON record per measurement, named by what was measured
    driver.py      the parent: one worker process per job, progress, crash records
    worker.py      the worker: warm-up, timed steps, peak memory
    references.py  what is measured: the zoo's models and the implementations beside them

Importing this package loads no framework (the CLI reads its options); the
worker and the driver import Keras or PyTorch when they run.
"""

from zoo.bench.options import add_arguments, default_profile, plan_jobs, resolve_profile
from zoo.bench.records import record_key, record_path
from zoo.bench.references import FAMILIES, implementation_label

__all__ = [
    "FAMILIES",
    "add_arguments",
    "default_profile",
    "implementation_label",
    "plan_jobs",
    "record_key",
    "record_path",
    "resolve_profile",
]
