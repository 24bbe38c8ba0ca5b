"""Autograd Functions behind ember.nn's layers: activations, losses, normalisation, dropout.

Every class is an ``ArrayFunction`` (NumPy arrays in and out) with a closed-form backward, so
a layer costs one graph node instead of a chain of small ops. The public, torch-named wrappers
(argument checking, defaults, in-place variants) live in ``ember.nn.functional``.

Numerical care (the reason some formulas look roundabout):
  - softplus(x) = max(x, 0) + log1p(exp(-|x|)): no overflow for large |x|, exact tails;
  - sigmoid(x) = (1 + tanh(x/2)) / 2 (as ember.sigmoid): no overflow;
  - ELU uses expm1 on min(x, 0), so exp never sees a large positive argument;
  - erf/erfc (for the exact GELU) are piecewise polynomial fits, see ``erf`` below;
  - binary cross-entropy clamps its logs at -100, like torch, so a saturated prediction gives
    a large finite loss instead of inf.
"""
from __future__ import annotations

import math

import numpy as np

from ember._dtype import result_type
from ember.autograd.function import ArrayFunction
from ember._functions._util import quiet, to_float

# =============================================================================================
# Special functions: erf, erfc and the standard normal CDF (NumPy has none of them)
# =============================================================================================
# Two regions, |z| < 1 and |z| >= 1, each a polynomial in a variable t on [-1, 1]:
#   |z| < 1   erf(z)  = z * P(t),                t = 2 z^2 - 1
#   |z| >= 1  erfc(z) = exp(-z^2) / z * Q(t),     t = 2 / z - 1
# (erfc(z) exp(z^2) z is smooth in 1/z and tends to 1/sqrt(pi) as z -> inf.) The coefficients
# are Chebyshev least-squares fits to 40-digit values of erf(z)/z and z exp(z^2) erfc(z) on 3000
# Chebyshev nodes, converted to the power basis for Horner evaluation. Relative error of the
# polynomials: 1.2e-15 (float64 set) and 1.4e-8 (float32 set, evaluated in float64 and rounded).
# exp(-z^2) adds a relative error of about z^2 * 1e-16 in the far tail.
_ERF_SMALL = {
    np.float64: (0.9654687386698667, -0.1405360890227216, 0.01985249668898373,
                 -0.0022854855610561875, 0.0002175171560381263, -1.7537169923924434e-05,
                 1.2233827570352262e-06, -7.511461054142376e-08, 4.115760213105033e-09,
                 -2.0458643154378626e-10, 9.207219123566014e-12),
    np.float32: (0.9654687386375504, -0.14053609728153724, 0.019852497722779944,
                 -0.002285419528891548, 0.00021751198975679712, -1.7669080812449932e-05,
                 1.2316401737105433e-06),
}
_ERFC_LARGE = {
    np.float64: (0.5107913526210115, -0.083605505207054, -0.009158321378645399,
                 0.014870331365013052, -0.0067970957847371125, 0.0013280660996736028,
                 0.0006340716035535103, -0.0008159392160627013, 0.00047854236357533167,
                 -0.00016265116778016784, -5.905818319413261e-06, 5.827243319686121e-05,
                 -5.270303359996898e-05, 3.0194121507152263e-05, -1.0313173431711534e-05,
                 -3.8971126656037905e-07, 3.1920600745742766e-06, -4.529362706810271e-06,
                 6.0137867518027296e-06, -1.8875982301077816e-06, -4.209340813210801e-06,
                 1.314111822038534e-06, 4.467106920718727e-06, -1.1667021977490116e-06,
                 -3.786827541299635e-06, 1.5407567608785917e-06, 1.49971771171561e-06,
                 -7.939869647770384e-07, -2.240507292686252e-07, 1.4036831464773052e-07),
    np.float32: (0.5107913552750332, -0.08360547892338507, -0.009158574054715433,
                 0.014869738438349088, -0.006793217760504512, 0.0013312398148407729,
                 0.0006122448981199056, -0.0008190411423839806, 0.0005344945678266954,
                 -0.00017763107450369708, -7.190757367966256e-05, 9.817340937075589e-05,
                 -2.7818531940025306e-05),
}
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _horner(coefs, t: np.ndarray) -> np.ndarray:
    r = np.full_like(t, coefs[-1])
    for c in coefs[-2::-1]:
        r *= t
        r += c
    return r


def _erf_pieces(z: np.ndarray, dtype):
    """Split float64 ``z`` by region: (small mask, erf on the small part, erfc(|z|) on the rest)."""
    key = np.float64 if dtype == np.float64 else np.float32
    small = np.abs(z) < 1
    zs = z[small]
    erf_small = zs * _horner(_ERF_SMALL[key], 2 * zs * zs - 1)
    a = np.abs(z[~small])
    with quiet():                     # inf -> t = -1, exp(-inf) = 0: erfc(inf) = 0 exactly
        r = 1 / a
        erfc_large = np.exp(-a * a) * r * _horner(_ERFC_LARGE[key], 2 * r - 1)
    return small, erf_small, erfc_large


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise, in x's float dtype (integers -> default float)."""
    x = to_float(x)
    z = x.astype(np.float64)
    small, erf_small, erfc_large = _erf_pieces(z, x.dtype)
    out = np.empty_like(z)
    out[small] = erf_small
    out[~small] = np.copysign(1 - erfc_large, z[~small])
    return out.astype(x.dtype, copy=False)


def erfc(x: np.ndarray) -> np.ndarray:
    """1 - erf(x), accurate in the right tail (no cancellation)."""
    x = to_float(x)
    z = x.astype(np.float64)
    small, erf_small, erfc_large = _erf_pieces(z, x.dtype)
    out = np.empty_like(z)
    out[small] = 1 - erf_small
    out[~small] = np.where(z[~small] < 0, 2 - erfc_large, erfc_large)
    return out.astype(x.dtype, copy=False)


def ndtr(x: np.ndarray) -> np.ndarray:
    """The standard normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2, accurate in both tails."""
    z = x.astype(np.float64) * _SQRT_HALF
    small, erf_small, erfc_large = _erf_pieces(z, x.dtype)
    out = np.empty_like(z)
    out[small] = 0.5 + 0.5 * erf_small
    half = 0.5 * erfc_large
    out[~small] = np.where(z[~small] < 0, half, 1 - half)
    return out.astype(x.dtype, copy=False)


def _sigmoid_parts(x: np.ndarray):
    """(sigmoid(x), sigmoid(-|x|)), both with full relative precision: m = e / (1 + e) with
    e = exp(-|x|) is the smaller of sigmoid(x) and 1 - sigmoid(x), and sigmoid(x) is m or 1 - m.
    (The tanh form underflows to 0 below x ~ -17 in float32.)"""
    e = np.exp(-np.abs(x))
    m = e / (1 + e)
    return np.where(x >= 0, 1 - m, m), m


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return _sigmoid_parts(x)[0]


class Sigmoid(ArrayFunction):
    """y = 1 / (1 + exp(-x)); y' = y (1 - y) = m (1 - m) with m = sigmoid(-|x|), which keeps
    the slope exact where y rounds to 1."""

    @staticmethod
    def forward(ctx, x):
        y, m = _sigmoid_parts(to_float(x))
        ctx.save_for_backward(m)
        return y

    @staticmethod
    def backward(ctx, grad):
        m, = ctx.saved_tensors
        return grad * (m * (1 - m))


def _softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) without overflow, exact for large |x|."""
    with quiet():
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


# =============================================================================================
# Activations: y = f(x) elementwise. Derivatives follow torch's backward kernels, including the
# value chosen at kinks (e.g. leaky_relu uses the negative slope at x == 0).
# =============================================================================================
class LeakyRelu(ArrayFunction):
    """y = x if x > 0 else slope * x."""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return np.where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return np.where(x > 0, grad, grad * ctx.slope)


class Elu(ArrayFunction):
    """ELU, SELU and CELU: y = scale * x (x > 0), scale * alpha * (exp(x * input_scale) - 1)."""

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        x = to_float(x)
        y = np.where(x > 0, x, np.expm1(np.minimum(x, 0) * input_scale) * alpha)
        if scale != 1:
            y *= scale
        ctx.save_for_backward(x)
        ctx.coef = (alpha, scale, input_scale)
        return y

    @staticmethod
    def backward(ctx, grad):
        # exp(x s) rather than y + 1: keeps the tiny slope of the far negative tail
        x, = ctx.saved_tensors
        alpha, scale, input_scale = ctx.coef
        slope = np.exp(np.minimum(x, 0) * input_scale) * (scale * alpha * input_scale)
        return np.where(x > 0, grad * scale, grad * slope)


class Gelu(ArrayFunction):
    """y = x Phi(x) ('none'), or 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) ('tanh')."""

    K_BETA = math.sqrt(2.0 / math.pi)
    K_KAPPA = 0.044715

    @staticmethod
    def forward(ctx, x, approximate):
        x = to_float(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            t = np.tanh((x + x * x * x * Gelu.K_KAPPA) * Gelu.K_BETA)
            ctx.save_for_backward(x, t)
            return (x * 0.5) * (t + 1)
        cdf = ndtr(x)
        ctx.save_for_backward(x, cdf)
        return x * cdf

    @staticmethod
    def backward(ctx, grad):
        x, aux = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = aux
            d_inner = (x * x * (3 * Gelu.K_KAPPA) + 1) * Gelu.K_BETA
            return grad * ((t + 1) * 0.5 + (x * 0.5) * (1 - t * t) * d_inner)
        pdf = np.exp(x * x * -0.5) * _INV_SQRT_2PI
        return grad * (aux + x * pdf)


class Silu(ArrayFunction):
    """y = x sigmoid(x); y' = s (1 + x (1 - s))."""

    @staticmethod
    def forward(ctx, x):
        x = to_float(x)
        s = _sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return grad * (s * (1 + x * (1 - s)))


class Mish(ArrayFunction):
    """y = x tanh(softplus(x)); y' = tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2)."""

    @staticmethod
    def forward(ctx, x):
        x = to_float(x)
        t = np.tanh(_softplus(x))
        ctx.save_for_backward(x, t)
        return x * t

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        return grad * (t + x * _sigmoid(x) * (1 - t * t))


class Softplus(ArrayFunction):
    """y = log(1 + exp(beta x)) / beta, or x where beta x > threshold (torch's cut-off)."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        x = to_float(x)
        z = x * beta if beta != 1 else x
        ctx.save_for_backward(z)
        ctx.threshold = threshold
        with quiet():
            sp = np.log1p(np.exp(np.minimum(z, threshold)))
        if beta != 1:
            sp /= beta
        return np.where(z > threshold, x, sp)

    @staticmethod
    def backward(ctx, grad):
        z, = ctx.saved_tensors
        return np.where(z > ctx.threshold, grad, grad * _sigmoid(z))


class LogSigmoid(ArrayFunction):
    """y = -softplus(-x) = min(x, 0) - log1p(exp(-|x|)); y' = sigmoid(-x)."""

    @staticmethod
    def forward(ctx, x):
        x = to_float(x)
        ctx.save_for_backward(x)
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * _sigmoid(-x)


class Hardtanh(ArrayFunction):
    """y = clamp(x, lo, hi); y' = 1 strictly inside (lo, hi), else 0 (relu6 is (0, 6))."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return np.minimum(np.maximum(x, lo), hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        lo, hi = ctx.bounds
        return np.where((x <= lo) | (x >= hi), 0, grad).astype(grad.dtype, copy=False)


class Hardsigmoid(ArrayFunction):
    """y = min(max(x + 3, 0), 6) / 6; y' = 1/6 on (-3, 3)."""

    @staticmethod
    def forward(ctx, x):
        x = to_float(x)
        ctx.save_for_backward(x)
        return np.minimum(np.maximum(x + 3, 0), 6) / 6

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return np.where((x > -3) & (x < 3), grad / 6, 0).astype(grad.dtype, copy=False)


class Hardswish(ArrayFunction):
    """y = x min(max(x + 3, 0), 6) / 6; y' = 0 (x < -3), x/3 + 1/2 (x <= 3), 1."""

    @staticmethod
    def forward(ctx, x):
        x = to_float(x)
        ctx.save_for_backward(x)
        return x * np.minimum(np.maximum(x + 3, 0), 6) / 6

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        d = np.where(x < -3, 0, np.where(x <= 3, x / 3 + 0.5, 1))
        return (grad * d).astype(grad.dtype, copy=False)


class Softsign(ArrayFunction):
    """y = x / (1 + |x|); y' = 1 / (1 + |x|)^2."""

    @staticmethod
    def forward(ctx, x):
        x = to_float(x)
        den = np.abs(x) + 1
        ctx.save_for_backward(den)
        return x / den

    @staticmethod
    def backward(ctx, grad):
        den, = ctx.saved_tensors
        return grad / (den * den)


class Tanhshrink(ArrayFunction):
    """y = x - tanh(x); y' = tanh(x)^2."""

    @staticmethod
    def forward(ctx, x):
        x = to_float(x)
        t = np.tanh(x)
        ctx.save_for_backward(t)
        return x - t

    @staticmethod
    def backward(ctx, grad):
        t, = ctx.saved_tensors
        return grad * (t * t)


class Shrink(ArrayFunction):
    """softshrink: x -+ lambd outside [-lambd, lambd], 0 inside; hardshrink: x outside, 0 inside.
    Both have y' = 1 outside the interval and 0 inside."""

    @staticmethod
    def forward(ctx, x, lambd, soft):
        ctx.save_for_backward(x)
        ctx.lambd = lambd
        inside = (x >= -lambd) & (x <= lambd)
        if soft:
            y = np.where(x > lambd, x - lambd, x + lambd)
        else:
            y = x
        return np.where(inside, 0, y).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        inside = (x >= -ctx.lambd) & (x <= ctx.lambd)
        return np.where(inside, 0, grad).astype(grad.dtype, copy=False)


class Threshold(ArrayFunction):
    """y = value if x <= threshold else x; y' = [x > threshold]."""

    @staticmethod
    def forward(ctx, x, threshold, value):
        ctx.save_for_backward(x)
        ctx.threshold = threshold
        return np.where(x <= threshold, value, x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return np.where(x <= ctx.threshold, 0, grad).astype(grad.dtype, copy=False)


def _channel_view(w: np.ndarray, ndim: int) -> np.ndarray:
    """PReLU's weight (C,) shaped to broadcast along dim 1 of an ndim-d input."""
    if w.size == 1 or ndim < 2:
        return w.reshape(())
    return w.reshape((1, w.size) + (1,) * (ndim - 2))


class Prelu(ArrayFunction):
    """y = x if x > 0 else w[c] x with one learnable slope per channel (dim 1) or a shared one.
    dL/dw[c] sums g x over the elements of channel c where x <= 0."""

    @staticmethod
    def forward(ctx, x, w):
        wb = _channel_view(w, x.ndim)
        ctx.save_for_backward(x, w)
        return np.where(x > 0, x, x * wb).astype(result_type(x, w), copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        wb = _channel_view(w, x.ndim)
        gx = np.where(x > 0, grad, grad * wb) if ctx.needs_input_grad[0] else None
        gw = None
        if ctx.needs_input_grad[1]:
            contrib = np.where(x > 0, 0, grad * x)
            if w.size == 1 or x.ndim < 2:
                gw = np.asarray(contrib.sum(), w.dtype).reshape(w.shape)
            else:
                axes = (0,) + tuple(range(2, x.ndim))
                gw = contrib.sum(axis=axes).astype(w.dtype, copy=False)
        return gx, gw


# =============================================================================================
# Losses. Each Function computes the elementwise loss on the broadcast shape and reduces it
# ('none' | 'mean' | 'sum') in the same node; backward scales the elementwise derivative by the
# upstream gradient (divided by the element count for 'mean'). Gradients of broadcast inputs
# have the broadcast shape; the engine sums them back.
# =============================================================================================
def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":
        if loss.size == 0:             # an empty loss averages to nan, silently like torch
            return np.asarray(np.nan, dtype=loss.dtype)
        return np.asarray(loss.mean(), dtype=loss.dtype)
    if reduction == "sum":
        return np.asarray(loss.sum(), dtype=loss.dtype)
    return loss


def _upstream(grad: np.ndarray, ctx) -> np.ndarray:
    """The gradient reaching each loss element (a 0-d array for 'mean'/'sum')."""
    if ctx.reduction == "mean":
        with quiet():
            return grad / ctx.numel
    return grad


def _common_float(*arrays):
    """The arrays cast to their torch result dtype (a float type)."""
    dt = result_type(*[a for a in arrays if a is not None])
    if dt.kind != "f":
        from ember._dtype import get_default_dtype
        dt = get_default_dtype().np
    return [None if a is None else a.astype(dt, copy=False) for a in arrays]


class RegressionLoss(ArrayFunction):
    """Losses of d = input - target:
        mse        d^2                                          d' = 2 d
        l1         |d|                                          d' = sign d
        smooth_l1  0.5 d^2 / beta if |d| < beta else |d| - beta/2    d' = d / beta or sign d
        huber      0.5 d^2 if |d| < delta else delta (|d| - delta/2) d' = d or delta sign d
    The gradient for target is the negated gradient for input."""

    @staticmethod
    def forward(ctx, x, t, kind, param, reduction):
        x, t = _common_float(x, t)
        d = x - t
        if kind == "mse":
            loss = d * d
        elif kind == "l1":
            loss = np.abs(d)
        else:
            ad = np.abs(d)
            if kind == "smooth_l1":
                loss = np.where(ad < param, (0.5 / param) * d * d, ad - 0.5 * param)
            else:
                loss = np.where(ad < param, 0.5 * d * d, param * (ad - 0.5 * param))
        ctx.save_for_backward(d)
        ctx.kind, ctx.param, ctx.reduction, ctx.numel = kind, param, reduction, d.size
        return _reduce(loss.astype(d.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, grad):
        d, = ctx.saved_tensors
        g = _upstream(grad, ctx)
        kind, param = ctx.kind, ctx.param
        if kind == "mse":
            gx = d * (2 * g)
        elif kind == "l1":
            gx = np.sign(d) * g
        elif kind == "smooth_l1":
            gx = np.where(np.abs(d) < param, d / param, np.sign(d)) * g
        else:
            gx = np.where(np.abs(d) < param, d, np.sign(d) * param) * g
        gx = gx.astype(d.dtype, copy=False)
        return (gx if ctx.needs_input_grad[0] else None,
                -gx if ctx.needs_input_grad[1] else None)


class BinaryCrossEntropy(ArrayFunction):
    """l = -w (t log x + (1 - t) log(1 - x)), both logs clamped at -100 (torch).
    dl/dx = w (x - t) / max(x (1 - x), 1e-12);  dl/dt = w (log(1 - x) - log x)."""

    EPS = 1e-12

    @staticmethod
    def forward(ctx, x, t, w, reduction):
        x, t, w = _common_float(x, t, w)
        if np.any((x < 0) | (x > 1)):
            raise RuntimeError("all elements of input should be between 0 and 1")
        if np.any((t < 0) | (t > 1)):
            raise RuntimeError("all elements of target should be between 0 and 1")
        with quiet():
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        loss = (t - 1) * log_1mx - t * log_x
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, t, w)
        ctx.reduction, ctx.numel = reduction, loss.size
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, t, w = ctx.saved_tensors
        g = _upstream(grad, ctx)
        if w is not None:
            g = g * w
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = g * (x - t) / np.maximum((1 - x) * x, BinaryCrossEntropy.EPS)
        if ctx.needs_input_grad[1]:
            with quiet():
                gt = g * (np.log1p(-x) - np.log(x))
        return gx, gt, None


class BinaryCrossEntropyWithLogits(ArrayFunction):
    """l = w ((1 - t) x + lw softplus(-x)),  lw = 1 + (pos_weight - 1) t;
    dl/dx = w (lw sigmoid(x) - pos_weight t);  dl/dt = w ((pos_weight - 1) softplus(-x) - x).
    softplus(-x) = -log sigmoid(x) is computed without overflow, so any logit gives a finite
    loss and gradient."""

    @staticmethod
    def forward(ctx, x, t, w, pw, reduction):
        x, t, w, pw = _common_float(x, t, w, pw)
        sp = _softplus(-x)
        if pw is None:
            loss = (1 - t) * x + sp
        else:
            loss = (1 - t) * x + (1 + (pw - 1) * t) * sp
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, t, w, pw, sp)
        ctx.reduction, ctx.numel = reduction, loss.size
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, t, w, pw, sp = ctx.saved_tensors
        g = _upstream(grad, ctx)
        if w is not None:
            g = g * w
        gx = gt = None
        if ctx.needs_input_grad[0]:
            s = _sigmoid(x)
            gx = g * (s - t if pw is None else (1 + (pw - 1) * t) * s - pw * t)
        if ctx.needs_input_grad[1]:
            gt = g * (-x if pw is None else (pw - 1) * sp - x)
        return gx, gt, None, None


class KLDiv(ArrayFunction):
    """Pointwise KL divergence with input = log q:
        log_target=False  l = t (log t - x)   (0 where t == 0);  dl/dx = -t,  dl/dt = log t + 1 - x
        log_target=True   l = exp(t) (t - x);                     dl/dx = -exp(t), dl/dt = exp(t)(t - x + 1)
    """

    @staticmethod
    def forward(ctx, x, t, log_target, reduction):
        x, t = _common_float(x, t)
        with quiet():
            if log_target:
                et = np.exp(t)
                loss = et * (t - x)
            else:
                et = None
                loss = np.where(t == 0, 0, t * np.log(np.where(t == 0, 1, t))) - t * x
                loss = loss.astype(x.dtype, copy=False)
        ctx.save_for_backward(x, t, et)
        ctx.log_target, ctx.reduction, ctx.numel = log_target, reduction, loss.size
        ctx.shape = loss.shape
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, t, et = ctx.saved_tensors
        g = _upstream(grad, ctx)
        gx = gt = None
        if ctx.needs_input_grad[0]:     # -t has target's shape: spread it over the loss's
            gx = np.broadcast_to(-(et if ctx.log_target else t) * g, ctx.shape)
        if ctx.needs_input_grad[1]:
            with quiet():
                if ctx.log_target:
                    gt = et * (t - x + 1) * g
                else:
                    gt = np.where(t == 0, 0, (np.log(t) + 1 - x) * g).astype(x.dtype, copy=False)
        return gx, gt


class SoftMargin(ArrayFunction):
    """l = log(1 + exp(-t x)) = softplus(-t x);  dl/dx = -t sigmoid(-t x), dl/dt = -x sigmoid(-t x)."""

    @staticmethod
    def forward(ctx, x, t, reduction):
        x, t = _common_float(x, t)
        z = -(t * x)
        ctx.save_for_backward(x, t, z)
        ctx.reduction, ctx.numel = reduction, z.size
        return _reduce(_softplus(z), reduction)

    @staticmethod
    def backward(ctx, grad):
        x, t, z = ctx.saved_tensors
        s = _sigmoid(z) * _upstream(grad, ctx)
        return (-t * s if ctx.needs_input_grad[0] else None,
                -x * s if ctx.needs_input_grad[1] else None)


# =============================================================================================
# Normalisation. All three normalise groups of values to zero mean and unit (biased) variance,
#     xhat = (x - mean) / sqrt(var + eps),   y = xhat * weight + bias,
# and share the closed-form backward over a group of n values (g = dL/dxhat = dL/dy * weight):
#     dx = invstd * (g - mean(g) - xhat * mean(g * xhat))
# BatchNorm's groups are channels (over batch and spatial dims), LayerNorm's the trailing
# normalized_shape of each sample, GroupNorm's the channels of one group of one sample.
# =============================================================================================
class BatchNorm(ArrayFunction):
    """Batch normalisation of (N, C, *) over every dim but C.

    Training: batch statistics (biased variance normalises; the running variance is updated with
    the unbiased one, n / (n - 1) var, like torch); the running buffers, if given as arrays, are
    updated in place: r = (1 - momentum) r + momentum * stat. Eval: the running statistics,
    making y an affine map of x with dx = g * weight * invstd. Statistics of float32 input are
    accumulated in float64.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, training, momentum, eps, running_mean, running_var):
        n, c = x.shape[0], x.shape[1]
        x3 = x.reshape(n, c, -1)
        if training:
            count = x3.shape[0] * x3.shape[2]
            acc = np.float64 if x.dtype == np.float32 else x.dtype
            mean = x3.sum(axis=(0, 2), dtype=acc) / count
            xhat = x3 - mean.astype(x.dtype)[:, None]
            var = np.einsum("ncl,ncl->c", xhat, xhat, dtype=acc) / count
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += (momentum * mean).astype(running_mean.dtype)
            if running_var is not None:
                with quiet():
                    unbiased = var * (count / (count - 1)) if count > 1 else var / 0
                running_var *= 1 - momentum
                running_var += (momentum * unbiased).astype(running_var.dtype)
            invstd = (1 / np.sqrt(var + eps)).astype(x.dtype)
            xhat *= invstd[:, None]
        else:
            with quiet():
                invstd = (1 / np.sqrt(running_var + eps)).astype(x.dtype)
            xhat = (x3 - running_mean.astype(x.dtype)[:, None]) * invstd[:, None]
        y = xhat * weight[:, None] if weight is not None else xhat.copy()
        if bias is not None:
            y += bias[:, None]
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.training, ctx.shape = training, x.shape
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        xhat, invstd, weight = ctx.saved_tensors
        g3 = grad.reshape(xhat.shape)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        stats = need_x and ctx.training
        gb = g3.sum(axis=(0, 2)) if need_b or stats else None
        gw = np.einsum("ncl,ncl->c", g3, xhat) if need_w or stats else None
        gx = None
        if need_x:
            scale = invstd if weight is None else invstd * weight
            if ctx.training:
                count = xhat.shape[0] * xhat.shape[2]
                gx = g3 - (gb / count)[:, None]
                gx -= xhat * (gw / count)[:, None]
                gx *= scale[:, None]
            else:
                gx = g3 * scale[:, None]
            gx = gx.reshape(ctx.shape)
        return gx, (gw if need_w else None), (gb if need_b else None)


def _rows_normalize(x2: np.ndarray, eps: float):
    """Normalise each row of a 2-d array: (xhat, invstd as a column)."""
    acc = np.float64 if x2.dtype == np.float32 else None
    mean = x2.mean(axis=1, keepdims=True, dtype=acc).astype(x2.dtype)
    xc = x2 - mean
    var = np.einsum("ij,ij->i", xc, xc, dtype=acc)[:, None] / x2.shape[1]
    invstd = (1 / np.sqrt(var + eps)).astype(x2.dtype)
    xc *= invstd
    return xc, invstd


def _rows_backward(g2: np.ndarray, xhat: np.ndarray, invstd: np.ndarray) -> np.ndarray:
    """dx for row normalisation given g = dL/dxhat (2-d, rows are the groups)."""
    n = g2.shape[1]
    gx = g2 - g2.mean(axis=1, keepdims=True)
    gx -= xhat * (np.einsum("ij,ij->i", g2, xhat)[:, None] / n)
    gx *= invstd
    return gx


class LayerNorm(ArrayFunction):
    """Normalise over the trailing ``k`` dims of each sample; weight/bias have those dims."""

    @staticmethod
    def forward(ctx, x, weight, bias, k, eps):
        d = int(np.prod(x.shape[x.ndim - k:], dtype=np.int64))
        xhat, invstd = _rows_normalize(x.reshape(-1, d), eps)
        y = xhat * weight.reshape(-1) if weight is not None else xhat.copy()
        if bias is not None:
            y += bias.reshape(-1)
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.shape, ctx.norm_shape = x.shape, x.shape[x.ndim - k:]
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        xhat, invstd, weight = ctx.saved_tensors
        g2 = grad.reshape(xhat.shape)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = gw = gb = None
        if need_w:
            gw = np.einsum("ij,ij->j", g2, xhat).reshape(ctx.norm_shape)
        if need_b:
            gb = g2.sum(axis=0).reshape(ctx.norm_shape)
        if need_x:
            gxhat = g2 * weight.reshape(-1) if weight is not None else g2
            gx = _rows_backward(gxhat, xhat, invstd).reshape(ctx.shape)
        return gx, gw, gb


class GroupNorm(ArrayFunction):
    """Normalise (N, C, *) over groups of C/G channels (and all spatial dims) per sample;
    weight/bias are per channel."""

    @staticmethod
    def forward(ctx, x, weight, bias, groups, eps):
        n, c = x.shape[:2]
        xhat, invstd = _rows_normalize(x.reshape(n * groups, -1), eps)
        xhat = xhat.reshape(n, c, -1)
        y = xhat * weight[:, None] if weight is not None else xhat.copy()
        if bias is not None:
            y += bias[:, None]
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.groups, ctx.shape = groups, x.shape
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        xhat, invstd, weight = ctx.saved_tensors
        g3 = grad.reshape(xhat.shape)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = gw = gb = None
        if need_w:
            gw = np.einsum("ncl,ncl->c", g3, xhat)
        if need_b:
            gb = g3.sum(axis=(0, 2))
        if need_x:
            gxhat = g3 * weight[:, None] if weight is not None else g3
            rows = xhat.shape[0] * ctx.groups
            gx = _rows_backward(gxhat.reshape(rows, -1), xhat.reshape(rows, -1),
                                invstd).reshape(ctx.shape)
        return gx, gw, gb


class RMSNorm(ArrayFunction):
    """y = x / sqrt(mean(x^2) + eps) * weight over the trailing ``k`` dims;
    dx = r (g - xhat mean(g xhat)) with r = 1/sqrt(mean(x^2) + eps), g = dL/dy * weight."""

    @staticmethod
    def forward(ctx, x, weight, k, eps):
        d = int(np.prod(x.shape[x.ndim - k:], dtype=np.int64))
        x2 = x.reshape(-1, d)
        acc = np.float64 if x.dtype == np.float32 else None
        ms = np.einsum("ij,ij->i", x2, x2, dtype=acc)[:, None] / d
        r = (1 / np.sqrt(ms + eps)).astype(x.dtype)
        xhat = x2 * r
        y = xhat * weight.reshape(-1) if weight is not None else xhat.copy()
        ctx.save_for_backward(xhat, r, weight)
        ctx.shape = x.shape
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        xhat, r, weight = ctx.saved_tensors
        g2 = grad.reshape(xhat.shape)
        gx = gw = None
        if ctx.needs_input_grad[1]:
            gw = np.einsum("ij,ij->j", g2, xhat).reshape(weight.shape)
        if ctx.needs_input_grad[0]:
            gxhat = g2 * weight.reshape(-1) if weight is not None else g2
            gx = gxhat - xhat * (np.einsum("ij,ij->i", gxhat, xhat)[:, None] / g2.shape[1])
            gx *= r
            gx = gx.reshape(ctx.shape)
        return gx, gw


class Normalize(ArrayFunction):
    """y = x / max(||x||_p, eps) along ``dim``. With n = ||x||_p and m = max(n, eps):
        dx = g / m - x * sum(g x) / m^2 * dn/dx,  dn/dx = sign(x) |x|^(p-1) / n^(p-1)  (n >= eps)
    and no norm term below eps (the clamp is flat there), so an all-zero slice gets g / eps
    like torch rather than 0/0."""

    @staticmethod
    def forward(ctx, x, p, dim, eps):
        x = to_float(x)
        n = np.linalg.norm(x, ord=p, axis=dim, keepdims=True) if p != 2 else \
            np.sqrt(np.sum(x * x, axis=dim, keepdims=True))
        n = n.astype(x.dtype, copy=False)
        m = np.maximum(n, eps)
        ctx.save_for_backward(x, n, m)
        ctx.p, ctx.dim, ctx.eps = p, dim, eps
        return x / m

    @staticmethod
    def backward(ctx, grad):
        x, n, m = ctx.saved_tensors
        p = ctx.p
        gx = grad / m
        active = n >= ctx.eps
        if active.any():
            with quiet():
                if p == 2:
                    dn = x / n
                elif p == 1:
                    dn = np.sign(x)
                elif p == np.inf:           # the largest |x| (ties share it, as torch)
                    top = np.abs(x) == n
                    dn = np.sign(x) * top / np.sum(top, axis=ctx.dim, keepdims=True)
                else:
                    dn = np.sign(x) * np.abs(x) ** (p - 1) / n ** (p - 1)
                coef = np.sum(grad * x, axis=ctx.dim, keepdims=True) / (m * m)
                gx -= np.where(active, coef * dn, 0)
        return gx


# =============================================================================================
# Dropout: y = x * m (+ b), with a fixed random mask m drawn by the caller; dy/dx = m.
# =============================================================================================
class MaskedScale(ArrayFunction):
    """y = x * mask + shift (mask and shift are arrays broadcastable to x, not differentiable)."""

    @staticmethod
    def forward(ctx, x, mask, shift):
        ctx.mask = mask
        y = x * mask
        if shift is not None:
            y += shift
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return (grad * ctx.mask).astype(grad.dtype, copy=False), None, None
