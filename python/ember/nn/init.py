"""``nn.init``: fill a weight tensor in place with PyTorch's initialisation schemes.

Every function works on any tensor, including Parameters that require grad (it runs under
``no_grad``), draws from ember's global generator (``ember.manual_seed``) unless a
``generator`` (a ``numpy.random.Generator``) is passed, and returns the tensor.

Fans: for a weight of shape (out, in, *kernel) the receptive field is prod(kernel), and
    fan_in = in * receptive,  fan_out = out * receptive
(a Linear weight (out, in) has receptive field 1; a Conv2d weight (64, 3, 3, 3) has fan_in 27).

    xavier_uniform_:  U(-b, b),  b = gain * sqrt(6 / (fan_in + fan_out))
    xavier_normal_:   N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out))
    kaiming_uniform_: U(-b, b),  b = gain * sqrt(3 / fan)      (fan = fan_in or fan_out)
    kaiming_normal_:  N(0, s^2), s = gain / sqrt(fan)
with gain = calculate_gain(nonlinearity, a).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ember import _random
from ember.autograd.grad_mode import no_grad

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_", "uniform", "normal", "constant",
           "eye", "dirac", "xavier_uniform", "xavier_normal", "kaiming_uniform",
           "kaiming_normal", "orthogonal", "sparse"]


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended scale of the weights in front of ``nonlinearity``:

    linear / conv* / sigmoid: 1,  tanh: 5/3,  relu: sqrt(2),
    leaky_relu: sqrt(2 / (1 + negative_slope^2)) (slope ``param``, default 0.01),  selu: 3/4.
    """
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or \
                isinstance(param, float):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight of shape (out, in, *receptive_field)."""
    dimensions = tensor.dim()
    if dimensions < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    num_input_fmaps = tensor.size(1)
    num_output_fmaps = tensor.size(0)
    receptive_field_size = math.prod(tensor.shape[2:]) if dimensions > 2 else 1
    return num_input_fmaps * receptive_field_size, num_output_fmaps * receptive_field_size


def _calculate_correct_fan(tensor, mode: str) -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _rng(generator):
    return generator if generator is not None else _random.get_rng()


def _write(tensor, values: np.ndarray):
    """Store ``values`` into the tensor's array (cast to its dtype) as one in-place update."""
    data = tensor._data
    data[...] = values.reshape(data.shape)
    tensor._version[0] += 1
    return tensor


# ------------------------------------------------------------------------------ basic fills
def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """Fill with U(a, b)."""
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """Fill with N(mean, std^2)."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor, val: float):
    """Fill with the value ``val``."""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def eye_(tensor):
    """The identity matrix (2-D tensors only; non-square ones get ones on the main diagonal)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with no_grad():
        return _write(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups: int = 1):
    """The Dirac delta for conv weights (3-, 4- or 5-D): each of the first min(out/groups, in)
    output channels of every group copies one input channel through the kernel's centre."""
    dims = tensor.dim()
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    min_dim = min(out_per_group, sizes[1])
    values = np.zeros(sizes)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for d in range(min_dim):
            values[(g * out_per_group + d, d) + centre] = 1
    with no_grad():
        return _write(tensor, values)


# ------------------------------------------------------------------------------ truncated normal
# Acklam's rational approximation of the standard normal quantile function (relative error
# below 1.2e-9 over (0, 1)), vectorised over NumPy arrays.
_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
      6.680131188771972e+01, -1.328068155288572e+01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
      3.754408661907416e+00)
_P_LOW = 0.02425


def _poly(coeffs, x):
    out = np.zeros_like(x)
    for c in coeffs:
        out = out * x + c
    return out


def _ndtri(p: np.ndarray) -> np.ndarray:
    """x with Phi(x) = p, for p in (0, 1) (float64)."""
    p = np.asarray(p, dtype=np.float64)
    x = np.empty_like(p)
    low = p < _P_LOW
    high = p > 1 - _P_LOW
    mid = ~(low | high)
    q = p[mid] - 0.5
    r = q * q
    x[mid] = _poly(_A, r) * q / (_poly(_B, r) * r + 1)
    with np.errstate(divide="ignore"):
        ql = np.sqrt(-2 * np.log(p[low]))
        x[low] = _poly(_C, ql) / (_poly(_D, ql) * ql + 1)
        qh = np.sqrt(-2 * np.log1p(-p[high]))
        x[high] = -_poly(_C, qh) / (_poly(_D, qh) * qh + 1)
    return x


def _norm_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def trunc_normal_(tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator=None):
    """Fill with N(mean, std^2) truncated to [a, b] (``a``, ``b`` are absolute bounds).

    Inverse-CDF sampling like torch: u ~ U(Phi(alpha), Phi(beta)) with alpha = (a-mean)/std,
    beta = (b-mean)/std, then x = mean + std * Phi^-1(u). An interval in the upper tail is
    sampled as its mirror image in the lower tail, where Phi keeps its precision.
    """
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    alpha, beta = (a - mean) / std, (b - mean) / std
    flip = alpha > 0
    if flip:
        alpha, beta = -beta, -alpha
    lo, hi = _norm_cdf(alpha), _norm_cdf(beta)
    u = _rng(generator).uniform(lo, hi, tensor.shape)
    x = np.clip(_ndtri(u), alpha, beta)
    if flip:
        x = -x
    with no_grad():
        return _write(tensor, np.clip(mean + std * x, a, b))


# ------------------------------------------------------------------------------ scaled schemes
def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """Glorot uniform: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """Glorot normal: N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None):
    """He uniform: U(-b, b), b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).
    (nn.Linear's default is ``kaiming_uniform_(w, a=sqrt(5))``, i.e. b = 1/sqrt(fan_in).)"""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None):
    """He normal: N(0, s^2), s = gain / sqrt(fan)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    return normal_(tensor, 0.0, gain / math.sqrt(fan), generator)


def orthogonal_(tensor, gain: float = 1, generator=None):
    """A (semi-)orthogonal matrix times ``gain``: the tensor viewed as (rows, numel/rows) has
    orthonormal rows (if rows <= cols) or columns. Q of the QR factorisation of a Gaussian
    matrix, with the signs of R's diagonal folded in so that Q is uniformly distributed."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    with no_grad():
        return _write(tensor, q * gain)


def sparse_(tensor, sparsity: float, std: float = 0.01, generator=None):
    """N(0, std^2) with a fraction ``sparsity`` of each column set to zero (2-D only)."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    rng = _rng(generator)
    values = rng.normal(0.0, std, (rows, cols))
    for col in range(cols):
        values[rng.permutation(rows)[:num_zeros], col] = 0
    with no_grad():
        return _write(tensor, values)


# ------------------------------------------------------------------------------ deprecated names
def _deprecated(fn):
    old = fn.__name__[:-1]

    def deprecated(*args, **kwargs):
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{fn.__name__}`.",
                      FutureWarning, stacklevel=2)
        return fn(*args, **kwargs)
    deprecated.__name__ = old
    deprecated.__doc__ = f"Deprecated alias of ``{fn.__name__}``."
    return deprecated


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
