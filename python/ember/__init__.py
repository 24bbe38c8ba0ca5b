"""ember: a small, fast, teachable deep-learning library.

``import ember as torch`` gives the PyTorch names used by most educational code: tensors and
their creation functions, dtypes, autograd (``backward``, ``no_grad``, ``autograd.Function``),
and the math, reduction, shape and indexing functions. ``ember.ops`` holds the raw NumPy-level
kernels underneath.
"""
from ember._backend import backend_info, get_num_threads, set_num_threads
from ember import ops

# dtypes (torch aliases included: ember.float is float32, ember.long is int64, ...)
from ember._dtype import (dtype, float16, float32, float64, uint8, int8, int16, int32, int64,
                          bool_ as bool, get_default_dtype, set_default_dtype)
from ember._dtype import float16 as half, float32 as float, float64 as double
from ember._dtype import int16 as short, int32 as int, int64 as long

from ember._tensor import Size, Tensor, device
from ember import autograd
from ember.autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, \
    set_grad_enabled
from ember._random import initial_seed, manual_seed, seed
from ember._generator import Generator
from ember._creation import (arange, as_tensor, bernoulli, empty, empty_like, eye, from_numpy,
                             full, full_like, is_tensor, linspace, normal, numel, ones,
                             ones_like, rand, rand_like, randint, randn, randn_like, randperm,
                             tensor, zeros, zeros_like)
from ember._functions.arithmetic import (add, allclose, bitwise_and, bitwise_not, bitwise_or,
                                         bitwise_xor, div, divide, eq, equal, float_power,
                                         floor_divide, ge, greater, greater_equal, gt, isclose,
                                         le, less, less_equal, logical_and, logical_not,
                                         logical_or, logical_xor, lt, mul, multiply, ne, neg,
                                         negative, not_equal, pow, remainder, rsub, sub,
                                         subtract, true_divide)
from ember._functions.elementwise import (abs, absolute, ceil, clamp, clamp_max, clamp_min,
                                          clip, cos, exp, expm1, floor, isfinite, isinf, isnan,
                                          log, log1p, maximum, minimum, nonzero, reciprocal,
                                          relu, round, rsqrt, sigmoid, sign, sin, sqrt, square,
                                          tanh, trunc, where)
from ember._functions.reduction import (all, amax, amin, any, argmax, argmin, count_nonzero,
                                        cumsum, logsumexp, max, mean, min, norm, prod, std,
                                        sum, var)
from ember._functions.shape import (broadcast_to, cat, chunk, clone, concat, concatenate,
                                    flatten, flip, hstack, movedim, moveaxis, narrow, permute,
                                    reshape, select,
                                    split, squeeze, stack, swapaxes, swapdims, t, transpose,
                                    unbind, unflatten, unsqueeze, vstack)
from ember._functions.indexing import (gather, index_select, masked_fill, masked_select, take,
                                       tril, triu)
from ember._functions.linalg import bmm, dot, inner, matmul, mm, mv, outer
from ember import nn, optim, utils
from ember._nn_aliases import dropout, log_softmax, softmax
from ember.serialization import load, save
from ember import data, metrics, models, training

__version__ = "0.1.0"
