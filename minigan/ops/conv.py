"""Convolution and its transpose: conv2d, conv_transpose2d, and the weight gradient they share.

Three ops, each built from the others' backward (docs/math/convolution.md derives them):

    Conv2d            y = conv2d(x, w)          x (N, C, H, W), w (O, C, kH, kW) -> y (N, O, Ho, Wo)
    ConvTranspose2d   y = conv_transpose2d(x, w)  x (N, I, H, W), w (I, O, kH, kW) -> y (N, O, Ho, Wo)
    Conv2dWeight      g = conv2d_weight(x, grad_y)  the correlation of x with grad_y -> (O, C, kH, kW)

With s the stride and x padded by p zeros on each side (PyTorch's conventions):

    conv2d:   y[n, o, p, q] = sum over c, i, j of w[o, c, i, j] * x_pad[n, c, s p + i, s q + j]

That is one matrix product once the windows are laid out as rows ("im2col"): row (n, p, q)
of ``cols`` holds the kH * kW * C numbers window (p, q) of image n sees, and
y = cols @ w_rows^T with w_rows = w laid out as (O, kH * kW * C) in the same order.

The backward of a linear map is its transpose, and that is the whole story here:
- conv2d's grad_x is conv_transpose2d(grad_y, w): every window sends grad_y back through
  the same weights to the pixels it read, and pixels read by several windows add up
  ("col2im"). conv_transpose2d *is* that map, used forward (a generator's upsampling layer).
- conv2d's grad_w is conv2d_weight(x, grad_y) = grad_y_rows^T @ cols: each weight collects
  the input it multiplied, weighted by the output's gradient.
- conv_transpose2d's backward is conv2d (grad_x) and conv2d_weight (grad_w), and
  conv2d_weight's own backward is conv_transpose2d and conv2d.
So every backward calls another op of the three (``ctx.run``), on arrays or, under
``backward(create_graph=True)``, recorded: the convolutions are differentiable twice, which
R1 and WGAN-GP need for a convolutional discriminator.

Memory: the columns are made in the forward, used by one matrix product and dropped; the
backward makes them again from x. So at most one layer's columns exist at a time.
"""
from __future__ import annotations

import numbers

from minigan.autograd import Op, Tensor, apply


def _padded(xp, x, padding):
    """A channels-last x (N, H, W, C) with ``padding`` = (pH, pW) rows and columns of zeros on each side."""
    p_h, p_w = padding
    if p_h == 0 and p_w == 0:
        return x
    n, h, w, c = x.shape
    out = xp.zeros((n, h + 2 * p_h, w + 2 * p_w, c), dtype=x.dtype)
    out[:, p_h:p_h + h, p_w:p_w + w, :] = x
    return out


def im2col(backend, x, kernel, stride, padding):
    """The windows of x (N, C, H, W) as rows: (N * Ho * Wo, kH * kW * C), and (Ho, Wo).

    Row (n, p, q) holds x_pad[n, :, s p : s p + kH, s q : s q + kW], flattened in the
    order (i, j, c). Why channels last: a window's kW pixels of all C channels then sit
    side by side in memory, so the one copy (the reshape into rows) moves kW * C numbers
    at a time instead of kW. The strided view itself (Backend.windows) copies nothing.
    """
    # BEGIN SOLUTION A6.1
    xp = backend.xp
    n, c = x.shape[:2]
    x_last = xp.permute_dims(x, (0, 2, 3, 1))                            # (N, H, W, C)
    view = backend.windows(_padded(xp, x_last, padding), kernel, stride)   # (N, Ho, Wo, kH, kW, C)
    h_out, w_out = view.shape[1], view.shape[2]
    return xp.reshape(view, (n * h_out * w_out, kernel[0] * kernel[1] * c)), (h_out, w_out)
    # END SOLUTION


def weight_rows(xp, w):
    """w (O, C, kH, kW) as the (O, kH * kW * C) matrix whose columns match im2col's rows."""
    return xp.reshape(xp.permute_dims(w, (0, 2, 3, 1)), (w.shape[0], -1))


def col2im(xp, cols, size, stride, padding):
    """The transpose of im2col: add every window's values back where the window read them.

    cols (N, H, W, kH, kW, C): window (p, q) of image n; size = (Ho, Wo), the unpadded
    output. Returns (N, C, Ho, Wo). A loop over the kH * kW kernel offsets (i, j): offset
    (i, j) of window (p, q) lands on pixel (s p + i, s q + j), so each offset adds one
    H x W grid, strided by s, into the padded output. Windows that overlap (s < k) add up
    there; with s > k some pixels are reached by none and stay 0.
    """
    n, h, w, k_h, k_w, c = cols.shape
    (s_h, s_w), (p_h, p_w) = stride, padding
    h_out, w_out = size
    out = xp.zeros((n, h_out + 2 * p_h, w_out + 2 * p_w, c), dtype=cols.dtype)     # channels last
    # BEGIN SOLUTION A6.2
    for i in range(k_h):
        for j in range(k_w):
            out[:, i:i + s_h * (h - 1) + 1:s_h, j:j + s_w * (w - 1) + 1:s_w, :] += cols[:, :, :, i, j, :]
    return xp.permute_dims(out[:, p_h:p_h + h_out, p_w:p_w + w_out, :], (0, 3, 1, 2))   # (N, C, Ho, Wo)
    # END SOLUTION


def _extra(size, kernel, stride, padding):
    """The rows of a padded input of ``size`` that no window reaches: (H + 2p - k) mod s.

    conv2d drops them; conv_transpose2d's ``output_padding`` puts them back, so that the
    transpose of a conv2d returns an array of the conv2d input's shape."""
    return tuple((n + 2 * p - k) % s for n, k, s, p in zip(size, kernel, stride, padding))


class Conv2d(Op):
    """y = conv2d(x, w): y[n, o, p, q] = sum_{c,i,j} w[o, c, i, j] x_pad[n, c, s p + i, s q + j].

    Forward:  y_rows = cols(x) @ w_rows^T       (N Ho Wo, kH kW C) @ (kH kW C, O)
    VJP:      grad_x = conv_transpose2d(grad_y, w)           (col2im of grad_y_rows @ w_rows)
              grad_w = conv2d_weight(x, grad_y)              (grad_y_rows^T @ cols(x))
    """

    @staticmethod
    def forward(ctx, x, w, stride, padding):
        xp = ctx.xp
        ctx.save(x, w)
        kernel = tuple(w.shape[2:])
        ctx.stride, ctx.padding = stride, padding
        ctx.output_padding = _extra(x.shape[2:], kernel, stride, padding)
        n, o = x.shape[0], w.shape[0]
        cols, (h_out, w_out) = im2col(ctx.backend, x, kernel, stride, padding)   # (N Ho Wo, kH kW C)
        w_rows = weight_rows(xp, w)                                              # (O, kH kW C)
        y_rows = xp.matmul(cols, xp.matrix_transpose(w_rows))                    # (N Ho Wo, O)
        return xp.permute_dims(xp.reshape(y_rows, (n, h_out, w_out, o)), (0, 3, 1, 2))   # (N, O, Ho, Wo)

    @staticmethod
    def backward(ctx, grad_y):
        x, w = ctx.saved
        need_x, need_w = ctx.needs_grad
        grad_x = grad_w = None
        if need_x:   # the transpose of the convolution, with the same weights
            grad_x = ctx.run(ConvTranspose2d, grad_y, w, stride=ctx.stride, padding=ctx.padding,
                             output_padding=ctx.output_padding)
        if need_w:   # each weight collects the input it multiplied, times grad_y
            grad_w = ctx.run(Conv2dWeight, x, grad_y, kernel=tuple(w.shape[2:]), stride=ctx.stride,
                             padding=ctx.padding)
        return grad_x, grad_w


class ConvTranspose2d(Op):
    """y = conv_transpose2d(x, w), w (I, O, kH, kW): the transpose (adjoint) of conv2d with weight w.

    Each input pixel x[n, :, p, q] spreads over a kH x kW patch of the output at (s p, s q):
        y_pad[n, o, s p + i, s q + j] += sum_c x[n, c, p, q] w[c, o, i, j]
    then ``padding`` rows and columns are cut from each side. Output size (PyTorch's formula):
        Ho = (H - 1) s - 2 p + kH + output_padding

    Forward:  cols = x_rows @ w_rows, then col2im     (N H W, I) @ (I, kH kW O)
    VJP:      grad_x = conv2d(grad_y, w)     (the transpose of the transpose: the convolution)
              grad_w = conv2d_weight(grad_y, x)
    """

    @staticmethod
    def forward(ctx, x, w, stride, padding, output_padding):
        xp = ctx.xp
        ctx.save(x, w)
        ctx.stride, ctx.padding = stride, padding
        n, c_in, h, w_in = x.shape
        c_out, k_h, k_w = w.shape[1:]
        size = tuple((m - 1) * s - 2 * p + k + e
                     for m, s, p, k, e in zip((h, w_in), stride, padding, (k_h, k_w), output_padding))
        x_rows = xp.reshape(xp.permute_dims(x, (0, 2, 3, 1)), (n * h * w_in, c_in))    # (N H W, I)
        cols = xp.matmul(x_rows, weight_rows(xp, w))                                  # (N H W, kH kW O)
        cols = xp.reshape(cols, (n, h, w_in, k_h, k_w, c_out))
        return col2im(xp, cols, size, stride, padding)                                # (N, O, Ho, Wo)

    @staticmethod
    def backward(ctx, grad_y):
        x, w = ctx.saved
        need_x, need_w = ctx.needs_grad
        grad_x = grad_w = None
        if need_x:
            grad_x = ctx.run(Conv2d, grad_y, w, stride=ctx.stride, padding=ctx.padding)
        if need_w:   # the weight gradient of conv2d(grad_y, w) -> x, with x as its grad_y
            grad_w = ctx.run(Conv2dWeight, grad_y, x, kernel=tuple(w.shape[2:]), stride=ctx.stride,
                             padding=ctx.padding)
        return grad_x, grad_w


class Conv2dWeight(Op):
    """g = conv2d_weight(x, grad_y): conv2d's gradient with respect to its weight,

        g[o, c, i, j] = sum_{n,p,q} grad_y[n, o, p, q] x_pad[n, c, s p + i, s q + j]
        g_rows = grad_y_rows^T @ cols(x)          (O, N Ho Wo) @ (N Ho Wo, kH kW C)

    It is linear in each input, so its VJP for a cotangent G (shaped like a weight) is:
        grad_x = conv_transpose2d(grad_y, G)     grad_grad_y = conv2d(x, G)
    (the second derivatives of a convolution go through here: R1 with a convolutional D).
    """

    @staticmethod
    def forward(ctx, x, grad_y, kernel, stride, padding):
        xp = ctx.xp
        ctx.save(x, grad_y)
        ctx.stride, ctx.padding = stride, padding
        ctx.output_padding = _extra(x.shape[2:], kernel, stride, padding)
        n, c = x.shape[:2]
        o = grad_y.shape[1]
        cols, _ = im2col(ctx.backend, x, kernel, stride, padding)                         # (N Ho Wo, kH kW C)
        grad_y_rows = xp.reshape(xp.permute_dims(grad_y, (0, 2, 3, 1)), (cols.shape[0], o))  # (N Ho Wo, O)
        g_rows = xp.matmul(xp.matrix_transpose(grad_y_rows), cols)                        # (O, kH kW C)
        return xp.permute_dims(xp.reshape(g_rows, (o,) + tuple(kernel) + (c,)), (0, 3, 1, 2))   # (O, C, kH, kW)

    @staticmethod
    def backward(ctx, grad_g):
        x, grad_y = ctx.saved
        need_x, need_grad_y = ctx.needs_grad
        grad_x = grad_grad_y = None
        if need_x:
            grad_x = ctx.run(ConvTranspose2d, grad_y, grad_g, stride=ctx.stride, padding=ctx.padding,
                             output_padding=ctx.output_padding)
        if need_grad_y:
            grad_grad_y = ctx.run(Conv2d, x, grad_g, stride=ctx.stride, padding=ctx.padding)
        return grad_x, grad_grad_y


# ---- the functions users call ----------------------------------------------------------------
def as_pair(name: str, value, low: int):
    """An int or a pair of ints, each >= low, as a pair (PyTorch's stride=2 or stride=(2, 1))."""
    values = (value, value) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else value
    if (not isinstance(values, (tuple, list)) or len(values) != 2
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= low for v in values)):
        raise ValueError(f"{name}: got {value!r}, wanted an integer >= {low} or a pair of them")
    return int(values[0]), int(values[1])


def _check(name: str, x, w, bias, weight_layout: str):
    if not isinstance(x, Tensor) or x.ndim != 4:
        got = x.shape if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{name}: x: got {got}, wanted a Tensor (N, C, H, W)")
    if not isinstance(w, Tensor) or w.ndim != 4:
        got = w.shape if isinstance(w, Tensor) else type(w).__name__
        raise ValueError(f"{name}: w: got {got}, wanted a Tensor {weight_layout}")
    channels = w.shape[1] if weight_layout.startswith("(O") else w.shape[0]
    if x.shape[1] != channels:
        raise ValueError(f"{name}: x has {x.shape[1]} channels (shape {x.shape}) but w {w.shape} "
                         f"wants {channels}; w is {weight_layout}")
    if x.dtype != w.dtype:
        raise TypeError(f"{name}: x has dtype {x.dtype} and w {w.dtype}, wanted one dtype")
    if bias is not None:
        c_out = w.shape[0] if weight_layout.startswith("(O") else w.shape[1]
        if not isinstance(bias, Tensor) or bias.shape != (c_out,):
            got = bias.shape if isinstance(bias, Tensor) else type(bias).__name__
            raise ValueError(f"{name}: bias: got {got}, wanted None or a Tensor ({c_out},)")


def _add_bias(y, bias):
    return y if bias is None else y + bias.reshape(1, bias.shape[0], 1, 1)   # one number per channel


def conv2d(x, w, bias=None, stride=1, padding=0):
    """y = conv2d(x, w) + bias: x (N, C, H, W), w (O, C, kH, kW), bias (O,) or None.

    stride and padding: an int or a pair (rows, columns). Output (N, O, Ho, Wo) with
    Ho = (H + 2 padding - kH) // stride + 1, as in torch.nn.functional.conv2d.
    """
    _check("conv2d", x, w, bias, "(O, C, kH, kW)")
    stride, padding = as_pair("stride", stride, 1), as_pair("padding", padding, 0)
    for axis, (n, k, p) in enumerate(zip(x.shape[2:], w.shape[2:], padding)):
        if n + 2 * p < k:
            raise ValueError(f"conv2d: the padded input is {n + 2 * p} wide on axis {axis + 2}, "
                             f"smaller than the kernel ({k}); wanted at least the kernel's size")
    return _add_bias(apply(Conv2d, x, w, stride=stride, padding=padding), bias)


def conv_transpose2d(x, w, bias=None, stride=1, padding=0, output_padding=0):
    """y = conv_transpose2d(x, w) + bias: x (N, I, H, W), w (I, O, kH, kW), bias (O,) or None.

    The transpose of conv2d with weight w (PyTorch's layout and size formula):
    Ho = (H - 1) stride - 2 padding + kH + output_padding, 0 <= output_padding < stride.
    """
    _check("conv_transpose2d", x, w, bias, "(I, O, kH, kW)")
    stride, padding = as_pair("stride", stride, 1), as_pair("padding", padding, 0)
    output_padding = as_pair("output_padding", output_padding, 0)
    if any(e >= s for e, s in zip(output_padding, stride)):
        raise ValueError(f"output_padding: got {output_padding}, wanted each smaller than the stride {stride}")
    for axis, (n, k, s, p, e) in enumerate(zip(x.shape[2:], w.shape[2:], stride, padding, output_padding)):
        if (n - 1) * s - 2 * p + k + e < 1:
            raise ValueError(f"conv_transpose2d: padding {p} leaves no output on axis {axis + 2} "
                             f"(size {(n - 1) * s - 2 * p + k + e}); wanted a smaller padding")
    y = apply(ConvTranspose2d, x, w, stride=stride, padding=padding, output_padding=output_padding)
    return _add_bias(y, bias)


def conv2d_weight(x, grad_y, kernel, stride=1, padding=0):
    """conv2d's gradient with respect to w, for input x and output gradient grad_y: (O, C, kH, kW)."""
    kernel, stride, padding = as_pair("kernel", kernel, 1), as_pair("stride", stride, 1), as_pair("padding", padding, 0)
    return apply(Conv2dWeight, x, grad_y, kernel=kernel, stride=stride, padding=padding)
