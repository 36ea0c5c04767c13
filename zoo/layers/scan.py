"""Parallel scans for linear recurrences `h_t = a_t * h_{t-1} + b_t`.

A recurrence whose state update is linear in the state trains in parallel:
the pairs `(a_t, b_t)` compose associatively,

    (a1, b1) then (a2, b2) = (a2 * a1, a2 * b1 + b2),

so all prefixes come out of a parallel prefix scan of depth `log2(T)`
(Blelloch 1990; Martin & Cundy 2018) instead of a loop of `T` steps.

`associative_scan` is the work-efficient odd/even scan written with
`keras.ops` slicing, stacking and reshapes, so it runs the same way on
TensorFlow, JAX and PyTorch. It needs the scanned length to be static, which
it is under JAX and PyTorch and in TensorFlow graphs traced on real batches;
a TensorFlow graph traced with an unknown length falls back to a
Hillis-Steele scan in `keras.ops.while_loop` (log2(T) rounds of T combines).
We do not use `keras.ops.associative_scan`: in Keras 3.15 its PyTorch version
builds its interleave buffers with `torch.zeros(shape)` (on the CPU and in
float32 whatever the inputs, which breaks on a GPU and widens bfloat16), and
its TensorFlow version fails on an unknown length (it compares the lengths
as Python booleans).

The recurrences run in float32 whatever the inputs' dtype: a long product of
decays loses too much in bfloat16.

Shapes: every tensor is `(batch, T, ...)` and is scanned along axis 1.
"""

from keras import ops

# A log-space value that stands for log(0) but keeps gradients finite.
LOG_ZERO = -1e30


def associative_scan(combine, elems):
    """All prefixes `e_0, combine(e_0, e_1), ...` of a list of tensors along axis 1.

    Args:
        combine: `combine(earlier, later) -> combined`, each a list of tensors
            shaped like `elems` (with any length along axis 1); associative.
        elems: a list of `(batch, T, ...)` tensors.

    Returns:
        A list of tensors shaped like `elems`: the inclusive scan.
    """
    length = elems[0].shape[1]
    if length is None:
        return _scan_unknown_length(combine, list(elems))
    return _scan(combine, list(elems), int(length))


def _scan_unknown_length(combine, elems):
    """Hillis-Steele: round k combines each step with the prefix ending
    2^k steps earlier, until 2^k reaches the length."""
    length = ops.shape(elems[0])[1]

    def body(offset, *current):
        later = combine([e[:, :length - offset] for e in current],
                        [e[:, offset:] for e in current])
        merged = [ops.concatenate([e[:, :offset], v], axis=1) for e, v in zip(current, later)]
        return (offset * 2, *merged)

    result = ops.while_loop(lambda offset, *current: offset < length, body, (1, *elems))
    return list(result[1:])


def _scan(combine, elems, length):
    if length < 2:
        return elems
    pairs = length // 2
    # Neighbours (0, 1), (2, 3), ... side by side, by a reshape rather than
    # strided slices (whose gradients XLA mis-shapes in TensorFlow).
    evens, odds = zip(*(_split_pairs(e[:, :2 * pairs], pairs) for e in elems))
    # Combined, their prefixes are the prefixes at the odd positions 1, 3, ...
    odd = _scan(combine, combine(list(evens), list(odds)), pairs)
    # The prefix at an even position 2k > 0 is the prefix at 2k - 1, then e_2k.
    if length % 2:
        evens = [ops.concatenate([v, e[:, -1:]], axis=1) for v, e in zip(evens, elems)]
        earlier_odds = odd
    else:
        earlier_odds = [o[:, :-1] for o in odd]
    even = combine(earlier_odds, [v[:, 1:] for v in evens])
    even = [ops.concatenate([e[:, :1], v], axis=1) for e, v in zip(elems, even)]
    return [_interleave(v, o, length) for v, o in zip(even, odd)]


def _split_pairs(x, pairs):
    """`(B, 2P, ...)` -> the steps at even and at odd positions, `(B, P, ...)` each."""
    x = ops.reshape(x, (-1, pairs, 2) + tuple(x.shape[2:]))
    return x[:, :, 0], x[:, :, 1]


def _interleave(even, odd, length):
    """`[e0, o0, e1, o1, ...]` cut to `length` steps."""
    if length % 2:
        odd = ops.concatenate([odd, even[:, -1:]], axis=1)  # a filler, cut below
    stacked = ops.stack([even, odd], axis=2)  # (B, ceil(T/2), 2, ...)
    rest = tuple(stacked.shape[3:])
    merged = ops.reshape(stacked, (-1, 2 * even.shape[1]) + rest)
    return merged[:, :length]


def _float32(*tensors):
    return [ops.cast(t, "float32") for t in tensors]


def linear_recurrence(a, b, initial_state=None):
    """`h_t = a_t * h_{t-1} + b_t` for every t, with `h_0 = initial_state` (or 0).

    a, b: `(batch, T, ...)`; initial_state: `(batch, ...)` or None.
    Returns `h`, `(batch, T, ...)`, in float32.
    """
    a, b = _float32(a, b)
    if initial_state is not None:
        b = _with_initial_state(a, b, ops.cast(initial_state, "float32"))

    def combine(earlier, later):
        (a1, b1), (a2, b2) = earlier, later
        return [a2 * a1, a2 * b1 + b2]

    return associative_scan(combine, [a, b])[1]


def complex_linear_recurrence(a, b, initial_state=None):
    """The recurrence with complex `a`, `b`, `h`, as `(real, imaginary)` pairs.

    a, b: pairs of `(batch, T, ...)` tensors; initial_state: a pair of
    `(batch, ...)` tensors or None. Returns `(h_real, h_imaginary)` in float32.
    """
    a_re, a_im, b_re, b_im = _float32(*a, *b)
    if initial_state is not None:
        h_re, h_im = _float32(*initial_state)
        b_re = b_re + _first_step_only(a_re * h_re[:, None] - a_im * h_im[:, None])
        b_im = b_im + _first_step_only(a_re * h_im[:, None] + a_im * h_re[:, None])

    def combine(earlier, later):
        a1_re, a1_im, b1_re, b1_im = earlier
        a2_re, a2_im, b2_re, b2_im = later
        return [
            a2_re * a1_re - a2_im * a1_im,
            a2_re * a1_im + a2_im * a1_re,
            a2_re * b1_re - a2_im * b1_im + b2_re,
            a2_re * b1_im + a2_im * b1_re + b2_im,
        ]

    _, _, h_re, h_im = associative_scan(combine, [a_re, a_im, b_re, b_im])
    return h_re, h_im


def log_linear_recurrence(log_a, log_b, log_initial_state=None):
    """The recurrence for positive `a`, `b`, `h`, computed on logarithms.

    `log h_t = logaddexp(log a_t + log h_{t-1}, log b_t)`: no product of many
    decays ever leaves the log domain, so nothing underflows (Heinsen 2023;
    Feng et al. 2024 train minGRU and minLSTM this way).

    log_a, log_b: `(batch, T, ...)`; log_initial_state: `(batch, ...)` or None.
    Returns `log h`, `(batch, T, ...)`, in float32.
    """
    log_a, log_b = _float32(log_a, log_b)
    if log_initial_state is not None:
        start = log_a[:, :1] + ops.cast(log_initial_state, "float32")[:, None]
        log_b = ops.concatenate(
            [ops.logaddexp(start, log_b[:, :1]), log_b[:, 1:]], axis=1
        )

    def combine(earlier, later):
        (la1, lb1), (la2, lb2) = earlier, later
        return [la1 + la2, ops.logaddexp(la2 + lb1, lb2)]

    return associative_scan(combine, [log_a, log_b])[1]


def _with_initial_state(a, b, initial_state):
    return b + _first_step_only(a * initial_state[:, None])


def _first_step_only(x):
    """`x` at step 0 and zeros after it, for `x` shaped `(batch, T, ...)`."""
    return ops.concatenate([x[:, :1], ops.zeros_like(x[:, 1:])], axis=1)


def keep_state_on_padding(a, b, mask, one=1.0, zero=0.0):
    """`(a, b)` with padded steps made the identity `(one, zero)`, so the state
    passes through them unchanged. mask: `(batch, T)`, True on real steps."""
    if mask is None:
        return a, b
    mask = ops.cast(mask, "bool")
    for _ in range(len(a.shape) - 2):
        mask = mask[..., None]
    a = ops.where(mask, a, ops.cast(one, a.dtype))
    b = ops.where(mask, b, ops.cast(zero, b.dtype))
    return a, b
