"""Convolutions: conv2d, conv_transpose2d and conv2d_weight, and the layers built on them.

- conv2d against a plain nested-loop reference written here, and conv_transpose2d against
  its own loop (each input pixel spreads a weighted patch);
- the adjoint identity <conv2d(x, w), y> = <x, conv_transpose2d(y, w)>, which makes
  conv_transpose2d conv2d's VJP;
- gradients (gradcheck) and second derivatives (gradgradcheck) in float64 over random
  shapes, channels, kernels 1 to 5, strides 1 to 3 (also above the kernel), paddings 0 to 2
  and output paddings, on every backend;
- the layers: shapes, DCGAN's initialisation, errors; R1 through a convolutional D.
"""
import numpy as np
import numpy.testing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import BACKENDS

import minigan
from minigan import losses, nn, ops


# ---- references written out as loops --------------------------------------------------------
def conv2d_loops(x, w, stride, padding):
    """y[n, o, p, q] = sum_{c, i, j} w[o, c, i, j] x_pad[n, c, s p + i, s q + j], one number at a time."""
    (s_h, s_w), (p_h, p_w) = stride, padding
    n, c, h, wd = x.shape
    o, _, k_h, k_w = w.shape
    x_pad = np.zeros((n, c, h + 2 * p_h, wd + 2 * p_w))
    x_pad[:, :, p_h:p_h + h, p_w:p_w + wd] = x
    h_out, w_out = (h + 2 * p_h - k_h) // s_h + 1, (wd + 2 * p_w - k_w) // s_w + 1
    y = np.zeros((n, o, h_out, w_out))
    for b in range(n):
        for oc in range(o):
            for p in range(h_out):
                for q in range(w_out):
                    total = 0.0
                    for ic in range(c):
                        for i in range(k_h):
                            for j in range(k_w):
                                total += w[oc, ic, i, j] * x_pad[b, ic, s_h * p + i, s_w * q + j]
                    y[b, oc, p, q] = total
    return y


def conv_transpose2d_loops(x, w, stride, padding, output_padding):
    """Each input pixel x[n, c, p, q] adds x * w[c, :, i, j] at (s p + i, s q + j); then the padding is cut."""
    (s_h, s_w), (p_h, p_w) = stride, padding
    n, c, h, wd = x.shape
    _, o, k_h, k_w = w.shape
    full = np.zeros((n, o, (h - 1) * s_h + k_h + output_padding[0], (wd - 1) * s_w + k_w + output_padding[1]))
    for b in range(n):
        for ic in range(c):
            for p in range(h):
                for q in range(wd):
                    for i in range(k_h):
                        for j in range(k_w):
                            full[b, :, s_h * p + i, s_w * q + j] += x[b, ic, p, q] * w[ic, :, i, j]
    return full[:, :, p_h:full.shape[2] - p_h, p_w:full.shape[3] - p_w]


# ---- strategies -------------------------------------------------------------------------------
@st.composite
def convolutions(draw, max_batch=2, max_channels=2, max_extra=3):
    """A conv2d problem: x (N, C, H, W), w (O, C, kH, kW), stride, padding, with each side's
    kernel 1..5, stride 1..3 (stride > kernel included), padding 0..2, and H + 2 padding >= kernel."""
    n, c, o = draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels)), draw(st.integers(1, max_channels))
    kernel = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = tuple(max(1, k - 2 * p) + draw(st.integers(0, max_extra)) for k, p in zip(kernel, padding))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(size=(n, c) + size)
    w = rng.normal(size=(o, c) + kernel)
    return x, w, stride, padding


def output_padding_of(x_shape, w_shape, stride, padding):
    """The output_padding that makes conv_transpose2d give back conv2d's input shape."""
    return tuple((n + 2 * p - k) % s for n, k, s, p in zip(x_shape[2:], w_shape[2:], stride, padding))


def tensors(backend, *hosts, requires_grad=True):
    return [minigan.tensor(h, requires_grad=requires_grad, backend=backend, dtype="float64") for h in hosts]


# ---- forward: against the loops ----------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@given(problem=convolutions(max_channels=3))
def test_conv2d_matches_nested_loops(backend, problem):
    x, w, stride, padding = problem
    y = ops.conv2d(*tensors(backend, x, w, requires_grad=False), stride=stride, padding=padding)
    npt.assert_allclose(y.numpy(), conv2d_loops(x, w, stride, padding), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@given(problem=convolutions(max_channels=3), extra=st.tuples(st.integers(0, 2), st.integers(0, 2)))
def test_conv_transpose2d_matches_nested_loops(backend, problem, extra):
    x, w, stride, padding = problem          # w (O, C, kH, kW) read as (I, O', kH, kW): I = O inputs
    output_padding = tuple(e % s for e, s in zip(extra, stride))   # any value below the stride
    x = np.random.default_rng(0).normal(size=(x.shape[0], w.shape[0]) + x.shape[2:])
    sizes = [(n - 1) * s + k + e - 2 * p for n, s, k, e, p in zip(x.shape[2:], stride, w.shape[2:], output_padding, padding)]
    if min(sizes) < 1:
        return  # padding leaves no output: refused (test_bad_arguments_say_what_is_wrong)
    y = ops.conv_transpose2d(*tensors(backend, x, w, requires_grad=False), stride=stride, padding=padding,
                             output_padding=output_padding)
    expected = conv_transpose2d_loops(x, w, stride, padding, output_padding)
    npt.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@given(problem=convolutions(max_batch=3, max_channels=4, max_extra=5))
def test_the_adjoint_identity(backend, problem):
    """<conv2d(x, w), y> = <x, conv_transpose2d(y, w)> for every x and y: conv_transpose2d is
    conv2d's transpose, so it is conv2d's VJP in x. Exact up to rounding (float64)."""
    x, w, stride, padding = problem
    tx, tw = tensors(backend, x, w, requires_grad=False)
    y_shape = ops.conv2d(tx, tw, stride=stride, padding=padding).shape
    y = np.random.default_rng(0).normal(size=y_shape)
    (ty,) = tensors(backend, y, requires_grad=False)
    back = ops.conv_transpose2d(ty, tw, stride=stride, padding=padding,
                                output_padding=output_padding_of(x.shape, w.shape, stride, padding))
    assert back.shape == x.shape
    left = float(np.sum(ops.conv2d(tx, tw, stride=stride, padding=padding).numpy() * y))
    right = float(np.sum(x * back.numpy()))
    assert left == pytest.approx(right, rel=1e-10, abs=1e-10)


# ---- gradients ---------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@given(problem=convolutions())
def test_conv2d_gradients(backend, problem):
    x, w, stride, padding = problem
    bias = np.random.default_rng(1).normal(size=w.shape[0])
    minigan.gradcheck(lambda a, b, c: ops.conv2d(a, b, c, stride=stride, padding=padding), tensors(backend, x, w, bias))


@pytest.mark.parametrize("backend", BACKENDS)
@given(problem=convolutions(max_extra=2), extra=st.tuples(st.integers(0, 2), st.integers(0, 2)))
def test_conv_transpose2d_gradients(backend, problem, extra):
    x, w, stride, padding = problem
    output_padding = tuple(e % s for e, s in zip(extra, stride))
    y_shape = ops.conv2d(*tensors(backend, x, w, requires_grad=False), stride=stride, padding=padding).shape
    y = np.random.default_rng(1).normal(size=y_shape)
    full = [(n - 1) * s + k + e - 2 * p for n, s, k, e, p in zip(y_shape[2:], stride, w.shape[2:], output_padding, padding)]
    if min(full) < 1:
        output_padding = output_padding_of(x.shape, w.shape, stride, padding)   # the size conv2d's input had
    bias = np.random.default_rng(2).normal(size=w.shape[1])
    minigan.gradcheck(lambda a, b, c: ops.conv_transpose2d(a, b, c, stride=stride, padding=padding,
                                                           output_padding=output_padding), tensors(backend, y, w, bias))


@pytest.mark.parametrize("backend", BACKENDS)
@given(problem=convolutions(max_extra=2))
def test_second_derivatives(backend, problem):
    """Each op's backward is another of the three, recorded: d/dx <v, grad> against finite differences."""
    x, w, stride, padding = problem
    tx, tw = tensors(backend, x, w)
    minigan.gradgradcheck(lambda a, b: ops.conv2d(a, b, stride=stride, padding=padding), [tx, tw], directions=4)
    y_shape = ops.conv2d(tx, tw, stride=stride, padding=padding).shape
    (ty,) = tensors(backend, np.random.default_rng(3).normal(size=y_shape))
    extra = output_padding_of(x.shape, w.shape, stride, padding)
    minigan.gradgradcheck(lambda a, b: ops.conv_transpose2d(a, b, stride=stride, padding=padding, output_padding=extra),
                          [ty, tw], directions=4)
    minigan.gradgradcheck(lambda a, b: ops.conv2d_weight(a, b, w.shape[2:], stride=stride, padding=padding),
                          [tx, ty], directions=4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_large_problem_along_random_directions(backend):
    """DCGAN's step (kernel 4, stride 2, padding 1) on 8 images of 16 x 16: too big for one
    finite difference per element, checked along random directions instead."""
    rng = np.random.default_rng(4)
    tx, tw = tensors(backend, rng.normal(size=(8, 6, 16, 16)), rng.normal(size=(5, 6, 4, 4)))
    minigan.gradcheck(lambda a, b: ops.conv2d(a, b, stride=2, padding=1), [tx, tw], directions=6)
    (tz,) = tensors(backend, rng.normal(size=(8, 5, 8, 8)))
    minigan.gradcheck(lambda a, b: ops.conv_transpose2d(a, b, stride=2, padding=1), [tz, tw], directions=6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_stays_float32(backend):
    rng = np.random.default_rng(5)
    x = minigan.tensor(rng.normal(size=(2, 3, 6, 6)), requires_grad=True, backend=backend, dtype="float32")
    w = minigan.tensor(rng.normal(size=(4, 3, 3, 3)), requires_grad=True, backend=backend, dtype="float32")
    y = ops.conv_transpose2d(ops.conv2d(x, w, stride=2, padding=1), w, stride=2, padding=1, output_padding=1)
    y.backward(np.ones(y.shape))
    float32 = x.backend.xp.float32
    assert y.dtype == float32 and x.grad.dtype == float32 and w.grad.dtype == float32 and y.shape == x.shape


def test_bad_arguments_say_what_is_wrong():
    x = minigan.tensor(np.ones((1, 3, 5, 5)))
    w = minigan.tensor(np.ones((2, 3, 3, 3)))
    with pytest.raises(ValueError, match="stride: got 0, wanted an integer >= 1"):
        ops.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="x has 2 channels"):
        ops.conv2d(minigan.tensor(np.ones((1, 2, 5, 5))), w)
    with pytest.raises(ValueError, match="smaller than the kernel"):
        ops.conv2d(minigan.tensor(np.ones((1, 3, 2, 2))), w)
    with pytest.raises(ValueError, match="output_padding: got"):
        ops.conv_transpose2d(minigan.tensor(np.ones((1, 2, 3, 3))), w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="leaves no output"):
        ops.conv_transpose2d(minigan.tensor(np.ones((1, 2, 1, 1))), w, padding=2)
    with pytest.raises(ValueError, match=r"bias: got \(3,\)"):
        ops.conv2d(x, w, minigan.tensor(np.ones(3)))
    with pytest.raises(ValueError, match=r"x: got \(3, 5, 5\)"):
        ops.conv2d(minigan.tensor(np.ones((3, 5, 5))), w)


# ---- the layers ------------------------------------------------------------------------------
def dcgan_discriminator(backend, dtype="float64", rng=None):
    """A small DCGAN discriminator: 8 x 8 images -> 4 x 4 -> 2 x 2 -> one logit."""
    rng = rng or minigan.get_backend(backend).random(0)
    return nn.Sequential(nn.Conv2d(3, 4, 4, stride=2, padding=1, rng=rng, backend=backend, dtype=dtype),
                         nn.LeakyReLU(0.2),
                         nn.Conv2d(4, 8, 4, stride=2, padding=1, rng=rng, backend=backend, dtype=dtype),
                         nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(8 * 2 * 2, 1, rng=rng, backend=backend, dtype=dtype))


@pytest.mark.parametrize("backend", BACKENDS)
def test_layers_shapes_and_a_generator_step(backend):
    be = minigan.get_backend(backend)
    G = nn.Sequential(nn.Linear(10, 16 * 4 * 4, rng=be.random(1), backend=backend), nn.Unflatten((16, 4, 4)),
                      nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1, rng=be.random(2), backend=backend),
                      nn.ReLU(), nn.ConvTranspose2d(8, 3, 4, stride=2, padding=1, bias=False, rng=be.random(3),
                                                    backend=backend), nn.Tanh())
    z = minigan.tensor(np.random.default_rng(0).normal(size=(5, 10)), backend=backend, dtype="float32")
    images = G(z)
    assert images.shape == (5, 3, 16, 16)
    D = dcgan_discriminator(backend, "float32")
    D2 = nn.Sequential(nn.Conv2d(3, 4, 4, stride=2, padding=1, backend=backend), nn.Flatten())
    assert D2(images).shape == (5, 4 * 8 * 8)
    assert [name for name, _ in G.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias", "layers.4.weight"]
    assert G.layers[2].weight.shape == (16, 8, 4, 4) and D.layers[0].weight.shape == (4, 3, 4, 4)
    assert repr(G.layers[4]) == "ConvTranspose2d(8, 3, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False)"


def test_dcgan_initialisation_is_normal_with_std_002():
    layer = nn.Conv2d(64, 128, 4, init="normal", rng=minigan.get_backend("numpy").random(0))
    weights = layer.weight.numpy()
    assert abs(weights.std() - 0.02) < 0.001 and abs(weights.mean()) < 0.001
    assert np.all(layer.bias.numpy() == 0)
    glorot = nn.ConvTranspose2d(8, 4, 3).weight.numpy()
    limit = np.sqrt(6.0 / (8 * 9 + 4 * 9))
    assert glorot.shape == (8, 4, 3, 3) and np.abs(glorot).max() <= limit and np.abs(glorot).max() > 0.9 * limit


def test_layer_errors():
    with pytest.raises(ValueError, match="kernel_size: got 0"):
        nn.Conv2d(3, 4, 0)
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(3, 4, 4, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"Conv2d: x: got shape \(2, 5, 8, 8\), wanted \(N, 3, H, W\)"):
        nn.Conv2d(3, 4, 3)(minigan.tensor(np.ones((2, 5, 8, 8))))
    with pytest.raises(ValueError, match="Unflatten: x: got"):
        nn.Unflatten((4, 2, 2))(minigan.tensor(np.ones((2, 15))))


@pytest.mark.parametrize("backend", BACKENDS)
def test_r1_through_a_convolutional_discriminator(backend):
    """R1 = mean ||grad_x D(x)||^2 for a convolutional D (images in, one logit out), differentiated
    by D's weights through the recorded backward (conv2d's backward is conv_transpose2d, whose
    backward is conv2d and conv2d_weight): against finite differences."""
    D = dcgan_discriminator(backend)
    x = minigan.tensor(np.random.default_rng(6).normal(size=(3, 3, 8, 8)), backend=backend, dtype="float64")
    eps = minigan.tensor(np.full((3, 1), 0.3), backend=backend, dtype="float64")
    names, params = zip(*D.named_parameters())
    minigan.gradcheck(lambda *ws: with_weights(D, names, ws, lambda: losses.r1_penalty(D, x)), params, directions=4)
    minigan.gradcheck(lambda *ws: with_weights(D, names, ws, lambda: losses.gradient_penalty(D, x, x * 0.5, eps)),
                      params, directions=4)


def with_weights(module, names, weights, fn):
    """fn() with the module's parameters ``names`` replaced by the tensors ``weights`` (then put back),
    so that gradcheck's own copies of the weights are the ones differentiated and perturbed."""
    slots = []
    for name in names:
        *path, attribute = name.split(".")
        owner = module
        for part in path:
            owner = owner[int(part)] if part.isdigit() else getattr(owner, part)
        slots.append((owner, attribute, getattr(owner, attribute)))
    try:
        for (owner, attribute, _), w in zip(slots, weights):
            setattr(owner, attribute, w)
        return fn()
    finally:
        for owner, attribute, original in slots:
            setattr(owner, attribute, original)


def test_at_most_one_layers_columns_exist_at_a_time(monkeypatch):
    """im2col's columns are made, used by one product and dropped, in the forward and again in
    the backward: whenever new columns are made, no earlier ones are alive (weak references)."""
    import weakref

    from minigan.ops import conv

    made, original = [], conv.im2col

    def watched(*args, **kwargs):
        alive = [ref for ref in made if ref() is not None]
        assert not alive, f"{len(alive)} earlier columns still alive when new ones are made"
        cols, size = original(*args, **kwargs)
        made.append(weakref.ref(cols))
        return cols, size

    monkeypatch.setattr(conv, "im2col", watched)
    D = dcgan_discriminator("numpy", "float32")
    x = minigan.tensor(np.random.default_rng(7).normal(size=(4, 3, 8, 8)), requires_grad=True, dtype="float32")
    D(x).sum().backward()
    assert len(made) == 4   # two layers: forward, and grad_w in the backward


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_windows_are_the_strided_windows(backend):
    """Backend.windows: windows[n, p, q, i, j, c] = x[n, s p + i, s q + j, c]; on NumPy a view, no copy."""
    be = minigan.get_backend(backend)
    host = np.random.default_rng(8).normal(size=(2, 7, 6, 3))           # (N, H, W, C)
    view = be.windows(be.asarray(host), (3, 2), (2, 3))
    assert tuple(view.shape) == (2, 3, 2, 3, 2, 3)
    got = be.to_host(view)
    for n, p, q, i, j, c in np.ndindex(got.shape):
        assert got[n, p, q, i, j, c] == host[n, 2 * p + i, 3 * q + j, c]
    if backend == "numpy":
        x = be.asarray(host)
        assert np.shares_memory(be.windows(x, (3, 2), (2, 3)), x)


# ---- pinned by mutation testing (issue 26: benchmarks/mutation.py) --------------------------------
def test_the_functions_defaults_are_stride_1_and_no_padding():
    """conv2d, conv_transpose2d and conv2d_weight without stride, padding, output_padding: 1, 0, 0."""
    rng = np.random.default_rng(0)
    x = minigan.tensor(rng.normal(size=(2, 3, 6, 5)), dtype="float64")
    w = minigan.tensor(rng.normal(size=(4, 3, 3, 2)), dtype="float64")
    y = ops.conv2d(x, w)
    assert y.shape == (2, 4, 4, 4)
    npt.assert_allclose(y.numpy(), conv2d_loops(x.numpy(), w.numpy(), (1, 1), (0, 0)), rtol=1e-12, atol=1e-12)
    wt = minigan.tensor(rng.normal(size=(3, 4, 3, 2)), dtype="float64")
    yt = ops.conv_transpose2d(x, wt)
    assert yt.shape == (2, 4, 8, 6)
    npt.assert_allclose(yt.numpy(), conv_transpose2d_loops(x.numpy(), wt.numpy(), (1, 1), (0, 0), (0, 0)),
                        rtol=1e-12, atol=1e-12)
    g = minigan.tensor(rng.normal(size=(2, 4, 4, 4)), dtype="float64")
    npt.assert_allclose(ops.conv2d_weight(x, g, (3, 2)).numpy(),
                        ops.conv2d_weight(x, g, (3, 2), stride=1, padding=0).numpy(), rtol=0, atol=0)
    assert ops.conv2d_weight(x, g, (3, 2)).shape == (4, 3, 3, 2)


def test_each_error_names_the_function_and_the_argument():
    """The start of each message: which function, which argument, what it got (and the weight layout)."""
    x, x2 = minigan.tensor(np.ones((1, 3, 5, 5))), minigan.tensor(np.ones((1, 2, 5, 5)))
    w, wt = minigan.tensor(np.ones((2, 3, 3, 3))), minigan.tensor(np.ones((3, 2, 3, 3)))
    g = minigan.tensor(np.ones((1, 2, 3, 3)))
    cases = [
        (lambda: ops.conv2d(np.ones((1, 3, 5, 5)), w), r"conv2d: x: got ndarray, wanted a Tensor \(N, C, H, W\)"),
        (lambda: ops.conv2d(x, np.ones((2, 3, 3, 3))), r"conv2d: w: got ndarray, wanted a Tensor \(O, C, kH, kW\)"),
        (lambda: ops.conv_transpose2d(x, minigan.tensor(np.ones((3, 2, 3)))),
         r"conv_transpose2d: w: got \(3, 2, 3\), wanted a Tensor \(I, O, kH, kW\)"),
        (lambda: ops.conv_transpose2d(x2, wt), r"conv_transpose2d: x has 2 channels .* wants 3; w is \(I, O, kH, kW\)"),
        (lambda: ops.conv_transpose2d(x, wt, bias=minigan.tensor(np.ones(3))),
         r"conv_transpose2d: bias: got \(3,\), wanted None or a Tensor \(2,\)"),
        (lambda: ops.conv_transpose2d(x, wt, bias=np.ones(2)), r"conv_transpose2d: bias: got ndarray, wanted None"),
        (lambda: ops.conv2d_weight(x, g, 0), r"kernel: got 0, wanted an integer >= 1"),
        (lambda: ops.conv2d_weight(x, g, 3, stride=0), r"stride: got 0, wanted an integer >= 1"),
        (lambda: ops.conv2d_weight(x, g, 3, padding=-1), r"padding: got -1, wanted an integer >= 0"),
        (lambda: ops.conv2d(x, w, stride=True), r"stride: got True, wanted an integer >= 1"),
        (lambda: ops.conv2d(x, w, stride=1.5), r"stride: got 1.5, wanted an integer >= 1"),
        (lambda: ops.conv2d(x, w, padding=(1,)), r"padding: got \(1,\), wanted an integer >= 0 or a pair"),
        (lambda: ops.conv_transpose2d(x, wt, output_padding=-1), r"output_padding: got -1, wanted an integer >= 0"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match="^" + message):
            call()
    with pytest.raises(TypeError, match=r"^conv2d: x has dtype float32 and w float64, wanted one dtype"):
        ops.conv2d(minigan.tensor(np.ones((1, 3, 5, 5)), dtype="float32"), w)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_bias_adds_one_number_per_output_channel(backend):
    rng = np.random.default_rng(1)
    x = minigan.tensor(rng.normal(size=(2, 3, 4, 4)), backend=backend, dtype="float64")
    w = minigan.tensor(rng.normal(size=(2, 3, 3, 3)), backend=backend, dtype="float64")
    wt = minigan.tensor(rng.normal(size=(3, 2, 3, 3)), backend=backend, dtype="float64")
    bias = np.array([0.5, -2.0])
    b = minigan.tensor(bias, backend=backend, dtype="float64")
    for op, weight in [(ops.conv2d, w), (ops.conv_transpose2d, wt)]:
        plain, biased = op(x, weight, stride=2, padding=1).numpy(), op(x, weight, b, stride=2, padding=1).numpy()
        npt.assert_allclose(biased, plain + bias[None, :, None, None], rtol=1e-12, atol=1e-12)


def test_a_kernel_as_wide_as_the_padded_input_fits_and_a_wider_one_is_refused():
    """n + 2 p = k: one output pixel per axis; n + 2 p < k: no window fits, a one-line error."""
    x = minigan.tensor(np.ones((1, 3, 1, 2)), dtype="float64")
    assert ops.conv2d(x, minigan.tensor(np.ones((2, 3, 3, 4)), dtype="float64"), padding=1).shape == (1, 2, 1, 1)
    with pytest.raises(ValueError, match=r"^conv2d: the padded input is 3 wide on axis 2, smaller than the kernel \(4\)"):
        ops.conv2d(x, minigan.tensor(np.ones((2, 3, 4, 4)), dtype="float64"), padding=1)
    wt = minigan.tensor(np.ones((3, 2, 3, 3)), dtype="float64")
    for name, value in [("stride", 0), ("padding", -1)]:
        with pytest.raises(ValueError, match=rf"^{name}: got {value}, wanted an integer"):
            ops.conv_transpose2d(x, wt, **{name: value})


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["conv2d", "conv_transpose2d", "conv2d_weight"])
def test_a_convolution_backward_computes_only_the_gradients_wanted(name, backend):
    """ctx.needs_grad (False for an image that is data, or a weight held fixed): None there, nothing computed."""
    be = minigan.backend.get_backend(backend)
    rng = np.random.default_rng(2)
    x, w = be.asarray(rng.normal(size=(1, 2, 4, 4))), be.asarray(rng.normal(size=(2, 2, 3, 3)))
    settings = {"stride": (1, 1), "padding": (0, 0)}
    op, inputs = {"conv2d": (ops.Conv2d, (x, w)),
                  "conv_transpose2d": (ops.ConvTranspose2d, (x, w)),
                  "conv2d_weight": (ops.Conv2dWeight, (x, be.asarray(rng.normal(size=(1, 2, 2, 2)))))}[name]
    if name == "conv_transpose2d":
        settings["output_padding"] = (0, 0)
    if name == "conv2d_weight":
        settings["kernel"] = (3, 3)
    ctx = minigan.autograd.Context(be)
    y = op.forward(ctx, *inputs, **settings)
    for needs in [(True, False), (False, True)]:
        ctx.needs_grad = needs
        grads = op.backward(ctx, be.asarray(np.ones(tuple(y.shape))))
        assert [g is None for g in grads] == [not n for n in needs]
        assert [tuple(g.shape) for g, n in zip(grads, needs) if n] == [tuple(i.shape) for i, n in zip(inputs, needs) if n]
