"""The parallel scans equal the step-by-step recurrence, at every length."""

import keras
import numpy as np
import pytest

from tests.layers.mixer_checks import numpy
from zoo.layers import scan

RNG = np.random.default_rng(0)


def loop(a, b, h):
    outputs = []
    for t in range(a.shape[1]):
        h = a[:, t] * h + b[:, t]
        outputs.append(h)
    return np.stack(outputs, axis=1)


@pytest.mark.parametrize("length", [1, 2, 3, 5, 8, 13])
def test_linear_recurrences_match_the_loop(length):
    a = RNG.uniform(0.5, 1.0, (2, length, 3)).astype("float32")
    b = RNG.normal(size=(2, length, 3)).astype("float32")
    h0 = RNG.normal(size=(2, 3)).astype("float32")
    np.testing.assert_allclose(numpy(scan.linear_recurrence(a, b)), loop(a, b, 0 * h0), atol=1e-5)
    np.testing.assert_allclose(numpy(scan.linear_recurrence(a, b, h0)), loop(a, b, h0), atol=1e-5)

    log_h = scan.log_linear_recurrence(np.log(a), np.log(np.abs(b)), np.log(np.abs(h0)))
    np.testing.assert_allclose(np.exp(numpy(log_h)), loop(a, np.abs(b), np.abs(h0)), rtol=1e-4)

    a_c = a * np.exp(1j * b)
    b_c = b + 1j * a
    h0_c = h0 - 1j * h0
    h_re, h_im = scan.complex_linear_recurrence(
        (a_c.real, a_c.imag), (b_c.real, b_c.imag), (h0_c.real, h0_c.imag)
    )
    expected = loop(a_c, b_c, h0_c)
    np.testing.assert_allclose(numpy(h_re) + 1j * numpy(h_im), expected, atol=1e-5)


def test_padding_keeps_the_state():
    a = RNG.uniform(0.5, 1.0, (1, 4, 2)).astype("float32")
    b = RNG.normal(size=(1, 4, 2)).astype("float32")
    mask = np.array([[True, False, False, True]])
    a_kept, b_kept = scan.keep_state_on_padding(a, b, mask)
    h = numpy(scan.linear_recurrence(a_kept, b_kept))
    np.testing.assert_allclose(h[:, 1], h[:, 0], atol=1e-6)
    np.testing.assert_allclose(h[:, 2], h[:, 0], atol=1e-6)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow graphs only")
@pytest.mark.parametrize("name", ["scan", "LRU", "MinGRU", "Mamba", "LinearAttention"])
def test_unknown_length_in_a_tensorflow_graph(name):
    """A graph traced with an unknown length falls back to
    `keras.ops.associative_scan` (and causal linear attention to cumulative
    sums) and gives the same values."""
    import tensorflow as tf

    from zoo import layers

    x = RNG.normal(size=(2, 5, 4)).astype("float32")
    if name == "scan":
        def fn(u):
            return scan.linear_recurrence(keras.ops.sigmoid(u), u)
    else:
        options = {"num_heads": 2, "causal": True} if name == "LinearAttention" else {}
        layer = getattr(layers, name)(**options)
        layer(x)
        fn = layer
    graph = tf.function(fn, input_signature=[tf.TensorSpec((None, None, 4), "float32")])
    np.testing.assert_allclose(numpy(graph(x)), numpy(fn(x)), atol=1e-5)
