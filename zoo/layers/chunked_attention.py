"""Attention in chunks of queries and keys, with memory linear in the length.

Rabe & Staats (2021, "Self-attention Does Not Need O(n^2) Memory") and
FlashAttention (Dao et al. 2022; Dao 2023, FlashAttention-2): the softmax of a
row of scores can be built one chunk of keys at a time by keeping its running
maximum and sum (the "online softmax"), so no `(T, S)` score matrix is ever
held. The forward pass keeps, for each query, only its output, its largest
score and its sum of exponentials; the backward pass recomputes one block of
weights at a time from them. Peak memory is a few blocks plus the inputs and
outputs.

A block is `(g, heads, chunk, chunk)` for a group of `g` examples, `g` chosen
so that a block holds about `BLOCK_ELEMENTS` numbers: the few passes over a
block (scores, exponentials, products) then stay in the processor's cache,
which on a CPU matters more than the arithmetic. A `(batch, heads, chunk,
chunk)` block of a batch of 64 is streamed from memory at every pass: measured
with JAX on one core, that made the chunked pass 1.5x slower than groups.

Everything here is `keras.ops`; `zoo.layers.backend_kernels` ties `forward` and
`backward` together as one differentiable function on each backend.

Masks follow `MultiHeadAttention`'s full path exactly: a masked score is
replaced by -1e9 before the softmax, so a row whose every key is masked (a
padded query) spreads its weight evenly over all keys, as there. Keys added
only to fill the last chunk get -1e30 and never any weight. With a causal mask
and no other, blocks above the diagonal are skipped (half the work).
"""

import collections

from keras import ops

from zoo.layers import backend_kernels
from zoo.layers.chunk_layout import Shape, pad

MASKED = -1e9
PADDING = -1e30
BLOCK_ELEMENTS = 2**17  # 512 KB of float32 scores a block (best measured on a CPU)
MASK_NAMES = ("query_mask", "key_mask", "attention_mask")


def attention(query, key, value, masks, scale, chunk_size):
    """Outputs `(B, T, H, Dv)` of softmax(scale * Q K^T + mask) V, chunk by chunk.

    Args:
        query: `(B, T, H, D)`; key: `(B, S, H, D)`; value: `(B, S, H, Dv)`.
        masks: dict with any of `query_mask` `(B, T)`, `key_mask` `(B, S)`,
            `attention_mask` `(B, T, S)` (booleans, True where allowed) and
            `causal` (a Python bool).
        scale: multiplies the scores.
        chunk_size: queries and keys per chunk.
    """
    tensors = {name: ops.convert_to_tensor(masks[name], "bool")
               for name in MASK_NAMES if masks.get(name) is not None}
    # On an accelerator, the whole batch in every block: its cache is not the
    # bottleneck, and a loop over groups would run them one by one.
    budget = None if backend_kernels.on_accelerator() else BLOCK_ELEMENTS
    shape = Shape(query, key, bool(masks.get("causal", False)), bool(tensors), chunk_size, budget)

    attend = _differentiable(shape, scale)
    return attend(query, key, value, tensors)


# Layouts and scales seen lately -> their differentiable function. Reused, a
# function keeps what its backend compiled for it: TensorFlow compiles both
# passes with XLA once per function, and a new function at every eager call
# recompiled them every time (an eager causal call at T=64: 5.0 s, 0.01 s reused).
_FUNCTIONS = collections.OrderedDict()
_MAX_FUNCTIONS = 32


def _differentiable(shape, scale):
    """`attend(query, key, value, tensors)` for this layout and scale, made once
    for each static layout and Python-number scale."""
    key = shape.key()
    if key is None or not isinstance(scale, (int, float)):
        return _make_differentiable(shape, scale)
    key = (*key, float(scale))
    if key not in _FUNCTIONS:
        _FUNCTIONS[key] = _make_differentiable(shape, scale)
        if len(_FUNCTIONS) > _MAX_FUNCTIONS:
            _FUNCTIONS.popitem(last=False)
    _FUNCTIONS.move_to_end(key)
    return _FUNCTIONS[key]


def _make_differentiable(shape, scale):
    def forward(query, key, value, tensors):
        def one_group(inputs):
            blocks = _Blocks(shape, *inputs)
            outputs, row_max, inverse_sum = blocks.forward()
            return blocks.unchunk(outputs, shape.query_length), row_max, inverse_sum

        outputs, row_max, inverse_sum = ops.map(one_group, shape.grouped(query, key, value, tensors))
        # The backward pass gets the float32 outputs: its per-row delta from
        # outputs rounded to bfloat16 would no longer make each row's score
        # gradients sum to zero (measured: 3-15x the full path's error in the
        # key bias's gradient, which is zero).
        return ops.cast(shape.ungrouped(outputs), query.dtype), (outputs, row_max, inverse_sum)

    def backward(query, key, value, tensors, saved, upstream):
        outputs, row_max, inverse_sum = saved

        def one_group(inputs):
            group_inputs, (outputs, row_max, inverse_sum, upstream) = inputs
            blocks = _Blocks(shape, *group_inputs)
            grads = blocks.backward(
                blocks.chunk(outputs, shape.query_chunk), row_max, inverse_sum,
                blocks.chunk(upstream, shape.query_chunk),
            )
            query_grad, key_grad, value_grad = grads
            return (
                blocks.unchunk(query_grad, shape.query_length) * ops.cast(scale, query_grad.dtype),
                blocks.unchunk(key_grad, shape.key_length),
                blocks.unchunk(value_grad, shape.key_length),
            )

        grouped = (shape.grouped(query, key, value, tensors),
                   (outputs, row_max, inverse_sum, shape.group(upstream)))
        return tuple(shape.ungrouped(grad) for grad in ops.map(one_group, grouped))

    def scaled_forward(query, key, value, tensors):
        return forward(query * ops.cast(scale, query.dtype), key, value, tensors)

    def scaled_backward(query, key, value, tensors, saved, upstream):
        query = query * ops.cast(scale, query.dtype)
        return backward(query, key, value, tensors, saved, upstream)

    return backend_kernels.with_recomputed_gradient(scaled_forward, scaled_backward)


class _Blocks:
    """One group's inputs split into chunks, and the passes over its blocks.

    Layout: queries `(nq, g, H, Cq, D)`, keys and values `(nk, g, H, Ck, D)`,
    so that a chunk is one index along the first axis and every product is a
    batched matrix product over `(g, H)`. Queries arrive already scaled.
    """

    def __init__(self, shape, query, key, value, tensors):
        self.shape = shape
        query_chunk, key_chunk = shape.query_chunk, shape.key_chunk
        self.dtype = query.dtype
        self.query = self.chunk(query, query_chunk)
        self.key = self.chunk(key, key_chunk)
        self.value = self.chunk(value, key_chunk)
        self.num_query_chunks = ops.shape(self.query)[0]
        self.num_key_chunks = ops.shape(self.key)[0]
        key_length = shape.key_length
        self.padded = not (isinstance(key_length, int) and key_length % key_chunk == 0)
        key_real = ops.arange(self.num_key_chunks * key_chunk) < key_length  # (S',)
        self.key_real = ops.reshape(key_real, (-1, 1, 1, 1, key_chunk))  # (nk, 1, 1, 1, Ck)
        self.query_mask = self.key_mask = self.attention_mask = None
        if "query_mask" in tensors:
            mask = pad(tensors["query_mask"], 1, query_chunk)
            mask = ops.reshape(mask, (ops.shape(mask)[0], -1, query_chunk))  # (g, nq, Cq)
            self.query_mask = ops.transpose(mask, (1, 0, 2))[:, :, None, :, None]
        if "key_mask" in tensors:
            mask = pad(tensors["key_mask"], 1, key_chunk)
            mask = ops.reshape(mask, (ops.shape(mask)[0], -1, key_chunk))  # (g, nk, Ck)
            self.key_mask = ops.transpose(mask, (1, 0, 2))[:, :, None, None, :]
        if "attention_mask" in tensors:
            mask = pad(pad(tensors["attention_mask"], 1, query_chunk), 2, key_chunk)
            group = ops.shape(mask)[0]
            mask = ops.reshape(mask, (group, -1, query_chunk, self.num_key_chunks, key_chunk))
            self.attention_mask = ops.transpose(mask, (1, 3, 0, 2, 4))  # (nq, nk, g, Cq, Ck)
        self.masked = shape.causal or bool(tensors)

    # ------------------------------------------------------------ layout

    @staticmethod
    def chunk(x, chunk):
        """`(g, L, H, D)` -> `(n, g, H, chunk, D)`, zero-padded to whole chunks."""
        x = pad(x, 1, chunk)
        group, heads, depth = ops.shape(x)[0], ops.shape(x)[2], ops.shape(x)[3]
        x = ops.reshape(x, (group, -1, chunk, heads, depth))
        return ops.transpose(x, (1, 0, 3, 2, 4))

    @staticmethod
    def unchunk(x, length):
        """`(n, g, H, chunk, D)` -> `(g, length, H, D)`."""
        group, heads, depth = ops.shape(x)[1], ops.shape(x)[2], ops.shape(x)[4]
        x = ops.reshape(ops.transpose(x, (1, 0, 3, 2, 4)), (group, -1, heads, depth))
        return x[:, :length]

    # ------------------------------------------------------------ one block

    def _allowed(self, i, j):
        """`(g or 1, 1, Cq, Ck)` boolean for query chunk i and key chunk j, or None."""
        allowed = None

        def both(a, b):
            return b if a is None else ops.logical_and(a, b)

        if self.query_mask is not None:
            allowed = ops.take(self.query_mask, i, axis=0)
        if self.key_mask is not None:
            allowed = both(allowed, ops.take(self.key_mask, j, axis=0))
        if self.shape.causal:
            rows = i * self.shape.query_chunk + ops.arange(self.shape.query_chunk)
            columns = j * self.shape.key_chunk + ops.arange(self.shape.key_chunk)
            allowed = both(allowed, (rows[:, None] >= columns[None, :])[None, None])
        if self.attention_mask is not None:
            block = ops.take(ops.take(self.attention_mask, i, axis=0), j, axis=0)
            allowed = both(allowed, block[:, None])
        return allowed

    def _scores(self, query, i, key, j, transposed=False):
        """Float32 scores of one block, masked, and its mask: `(g, H, Cq, Ck)`,
        or `(g, H, Ck, Cq)` when `transposed`."""
        if transposed:
            scores = ops.einsum("bhkd,bhqd->bhkq", key, query)
        else:
            scores = ops.einsum("bhqd,bhkd->bhqk", query, key)
        scores = ops.cast(scores, "float32")
        allowed = self._allowed(i, j) if self.masked else None
        if allowed is not None:
            if transposed:
                allowed = ops.swapaxes(allowed, -1, -2)
            scores = ops.where(allowed, scores, MASKED)
        if self.padded:
            real = ops.take(self.key_real, j, axis=0)  # (1, 1, 1, Ck)
            if transposed:
                real = ops.reshape(real, (1, 1, -1, 1))
            scores = ops.where(real, scores, PADDING)
        return scores, allowed

    def _key_chunks_seen_by(self, i):
        """End of the key chunks that query chunk i visits."""
        if not self.shape.skip_above_diagonal:
            return self.num_key_chunks
        last_query = (i + 1) * self.shape.query_chunk - 1
        return ops.minimum(last_query // self.shape.key_chunk + 1, self.num_key_chunks)

    def _first_query_chunk_seeing(self, j):
        if not self.shape.skip_above_diagonal:
            return 0
        return (j * self.shape.key_chunk) // self.shape.query_chunk

    # ------------------------------------------------------------ passes

    def forward(self):
        """Float32 outputs `(nq, g, H, Cq, Dv)`, and each row's largest score and the
        inverse of its sum of exponentials, `(nq, g, H, Cq)` float32.

        The two statistics are kept apart rather than as one log-sum-exp: in a
        row whose every score is -1e9 (a padded query), -1e9 + log(sum) rounds
        back to -1e9 in float32, which would make the backward pass's weights
        sum to the number of keys instead of 1."""

        def one_query_chunk(inputs):
            query, i = inputs
            rows = ops.shape(query)[:-1]
            initial = (
                ops.zeros(rows + (ops.shape(self.value)[-1],), "float32"),
                ops.full(rows, PADDING, "float32"),
                ops.zeros(rows, "float32"),
            )

            def step(j, carry):
                total, running_max, running_sum = carry
                scores, _ = self._scores(query, i, ops.take(self.key, j, axis=0), j)
                new_max = ops.maximum(running_max, ops.max(scores, axis=-1))
                weights = ops.exp(scores - new_max[..., None])
                correction = ops.exp(running_max - new_max)
                running_sum = running_sum * correction + ops.sum(weights, axis=-1)
                value = ops.take(self.value, j, axis=0)
                update = ops.einsum("bhqk,bhkd->bhqd", ops.cast(weights, value.dtype), value)
                total = total * correction[..., None] + ops.cast(update, "float32")
                return total, new_max, running_sum

            total, running_max, running_sum = ops.fori_loop(
                0, self._key_chunks_seen_by(i), step, initial
            )
            inverse_sum = 1.0 / running_sum
            return total * inverse_sum[..., None], running_max, inverse_sum

        indices = ops.arange(self.num_query_chunks)
        return ops.map(one_query_chunk, (self.query, indices))

    def backward(self, outputs, row_max, inverse_sum, upstream):
        """Gradients of the chunked (scaled) queries, keys and values.

        Under XLA (JAX, and TensorFlow, whose passes `backend_kernels`
        compiles): one pass over the blocks, key chunks outside and query
        chunks inside, each block's weights recomputed once for all three
        gradients (FlashAttention-2's backward); the query gradient is updated
        in place. PyTorch copies the whole tensor for every such update, so
        there two passes, one per key chunk for the key and value gradients
        and one per query chunk for the query's, each building its chunk's
        gradient alone, at the price of recomputing the blocks' weights.
        """
        # delta_t = sum_d dO_td O_td: the softmax's backward, one number a row.
        delta = ops.sum(ops.cast(upstream, "float32") * ops.cast(outputs, "float32"), axis=-1)
        statistics = (row_max, inverse_sum, delta)
        if backend_kernels.updates_in_place():
            grads = self._backward_one_pass(upstream, statistics)
        else:
            grads = self._backward_two_passes(upstream, statistics)
        return tuple(ops.cast(grad, self.dtype) for grad in grads)

    def _block_gradients(self, query, i, key, j, value, grad_output, statistics):
        """One block's weights and score gradients, `(g, H, Ck, Cq)` in the
        compute dtype. Transposed: every product that uses them is then a plain
        or right-transposed matrix product, the kinds XLA's CPU backend hands
        to its fast kernels."""
        row_max, inverse_sum, delta = (ops.take(x, i, axis=0)[..., None, :] for x in statistics)
        scores, allowed = self._scores(query, i, key, j, transposed=True)
        weights = ops.exp(scores - row_max) * inverse_sum
        # dP = dO V^T in float32 (FlashAttention keeps it in its accumulators):
        # rounded to bfloat16 first, a row's score gradients no longer sum to 0.
        grad_weights = ops.einsum("bhkd,bhqd->bhkq", ops.cast(value, "float32"),
                                  ops.cast(grad_output, "float32"))
        grad_scores = weights * (grad_weights - delta)
        if allowed is not None:  # a masked score is a constant
            grad_scores = ops.where(allowed, grad_scores, 0.0)
        return ops.cast(weights, self.dtype), ops.cast(grad_scores, self.dtype)

    def _block_contributions(self, i, key, j, value, upstream, statistics):
        """Block (i, j)'s float32 shares of key chunk j's and its values'
        gradients, and its score gradients."""
        query, grad_output = ops.take(self.query, i, axis=0), ops.take(upstream, i, axis=0)
        weights, grad_scores = self._block_gradients(
            query, i, key, j, value, grad_output, statistics)
        key_share = ops.einsum("bhkq,bhqd->bhkd", grad_scores, query)
        value_share = ops.einsum("bhkq,bhqd->bhkd", weights, grad_output)
        return ops.cast(key_share, "float32"), ops.cast(value_share, "float32"), grad_scores

    def _key_and_value_gradients(self, key, value, j, upstream, statistics):
        """Float32 gradients of key chunk j and its values, over the query
        chunks that see it."""

        def step(i, totals):
            key_share, value_share, _ = self._block_contributions(
                i, key, j, value, upstream, statistics)
            return totals[0] + key_share, totals[1] + value_share

        totals = (ops.zeros(ops.shape(key), "float32"), ops.zeros(ops.shape(value), "float32"))
        return ops.fori_loop(self._first_query_chunk_seeing(j), self.num_query_chunks, step,
                             totals)

    def _backward_one_pass(self, upstream, statistics):
        zeros = [0] * 4

        def key_chunk_step(j, carry):
            query_grad, key_grad, value_grad = carry
            key = ops.take(self.key, j, axis=0)
            value = ops.take(self.value, j, axis=0)

            def query_chunk_step(i, inner):
                query_grad, key_total, value_total = inner
                key_share, value_share, grad_scores = self._block_contributions(
                    i, key, j, value, upstream, statistics)
                key_total, value_total = key_total + key_share, value_total + value_share
                update = ops.einsum("bhkq,bhkd->bhqd", grad_scores, key)
                row = ops.take(query_grad, i, axis=0) + ops.cast(update, "float32")
                query_grad = ops.slice_update(query_grad, [i] + zeros, row[None])
                return query_grad, key_total, value_total

            initial = (query_grad, ops.zeros(ops.shape(key), "float32"),
                       ops.zeros(ops.shape(value), "float32"))
            query_grad, key_total, value_total = ops.fori_loop(
                self._first_query_chunk_seeing(j), self.num_query_chunks,
                query_chunk_step, initial,
            )
            key_grad = ops.slice_update(key_grad, [j] + zeros, key_total[None])
            value_grad = ops.slice_update(value_grad, [j] + zeros, value_total[None])
            return query_grad, key_grad, value_grad

        initial = tuple(ops.zeros(ops.shape(x), "float32")
                        for x in (self.query, self.key, self.value))
        return ops.fori_loop(0, self.num_key_chunks, key_chunk_step, initial)

    def _backward_two_passes(self, upstream, statistics):
        def one_key_chunk(inputs):
            key, value, j = inputs
            return self._key_and_value_gradients(key, value, j, upstream, statistics)

        def one_query_chunk(inputs):
            query, grad_output, i = inputs

            def step(j, total):
                key, value = ops.take(self.key, j, axis=0), ops.take(self.value, j, axis=0)
                _, grad_scores = self._block_gradients(
                    query, i, key, j, value, grad_output, statistics)
                return total + ops.cast(
                    ops.einsum("bhkq,bhkd->bhqd", grad_scores, key), "float32")

            return ops.fori_loop(0, self._key_chunks_seen_by(i), step,
                                 ops.zeros(ops.shape(query), "float32"))

        key_grad, value_grad = ops.map(
            one_key_chunk, (self.key, self.value, ops.arange(self.num_key_chunks)))
        query_grad = ops.map(
            one_query_chunk, (self.query, upstream, ops.arange(self.num_query_chunks)))
        return query_grad, key_grad, value_grad
