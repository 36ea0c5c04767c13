"""The layout of chunked attention: chunk lengths, groups of the batch, padding."""

from keras import ops


class Shape:
    """Lengths, chunk sizes and the grouping of the batch, fixed for one call."""

    def __init__(self, query, key, causal, masked, chunk_size, block_elements):
        batch, self.query_length, heads = ops.shape(query)[:3]
        self.key_length = ops.shape(key)[1]
        self.query_chunk = chunk_length(self.query_length, chunk_size)
        self.key_chunk = chunk_length(self.key_length, chunk_size)
        # Skipping blocks above the diagonal is exact only when every row has
        # a key it may attend to in the blocks it visits, as with causal alone.
        self.skip_above_diagonal = causal and not masked
        self.causal = causal
        # a group of examples fills a block of about `block_elements` scores
        # (None: the whole batch)
        block = heads * self.query_chunk * self.key_chunk
        limit = batch if block_elements is None else max(1, block_elements // block)
        self.group_size = largest_divisor(batch, limit)

    def key(self):
        """Everything the passes read from this layout, or None where a length
        is not a Python int (a symbolic shape, to be read again at each call)."""
        if not all(isinstance(n, int) for n in (self.query_length, self.key_length)):
            return None
        return (self.query_length, self.key_length, self.query_chunk, self.key_chunk,
                self.skip_above_diagonal, self.causal, self.group_size)

    def group(self, x):
        """`(B, ...)` -> `(B / g, g, ...)`."""
        return ops.reshape(x, (-1, self.group_size) + tuple(ops.shape(x)[1:]))

    def ungrouped(self, x):
        return ops.reshape(x, (-1,) + tuple(ops.shape(x)[2:]))

    def grouped(self, query, key, value, tensors):
        tensors = {name: self.group(mask) for name, mask in tensors.items()}
        return self.group(query), self.group(key), self.group(value), tensors


def largest_divisor(number, limit):
    """Largest divisor of `number` not above `limit` (1 when `number` is unknown)."""
    if not isinstance(number, int):
        return 1
    return max(d for d in range(1, min(number, limit) + 1) if number % d == 0)


def chunk_length(length, chunk_size):
    """The chunk itself, or the whole length when it is shorter and known."""
    if isinstance(length, int):
        return max(1, min(chunk_size, length))
    return chunk_size


def pad(x, axis, multiple):
    """Zero-pad (False for booleans) `axis` of `x` up to a multiple of `multiple`."""
    length = ops.shape(x)[axis]
    missing = (-length) % multiple
    if isinstance(missing, int) and missing == 0:
        return x
    widths = [[0, 0] for _ in range(len(x.shape))]
    widths[axis] = [0, missing]
    return ops.pad(x, widths)
