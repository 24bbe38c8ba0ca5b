"""The convolution, pooling, padding and upsampling layers of ember.nn against PyTorch's:
constructor arguments and defaults, parameter shapes and default initialisation (torch's
bounds, checked on large layers), reprs and state_dict keys, forward values and every gradient
with the torch layer's weights copied in (float32 and float64), float64 gradcheck through the
real backward, and torch's error types for bad arguments. Ends with a small CNN run side by
side with torch."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.autograd import gradcheck

TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-11)}
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])


def _torch():
    return pytest.importorskip("torch")


def _tdtype(torch, dtype):
    return getattr(torch, np.dtype(dtype).name)


def copy_weights(e_mod, t_mod):
    e_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})


def assert_close(e, t, dtype):
    e = e.detach().numpy() if hasattr(e, "detach") else np.asarray(e)
    t = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    assert e.shape == t.shape
    assert e.dtype == t.dtype
    np.testing.assert_allclose(e, t, **TOL[dtype])


def run_both(e_mod, t_mod, x, dtype, rng, *args, **kwargs):
    """Forward both layers on x (copied weights), backward a random cotangent, compare the
    outputs, the input gradient and every parameter gradient. Returns the two outputs."""
    torch = _torch()
    tx = torch.tensor(x, requires_grad=True)
    ex = ember.tensor(x, requires_grad=True)
    ty, ey = t_mod(tx, *args, **kwargs), e_mod(ex, *args, **kwargs)
    t_out = ty[0] if isinstance(ty, tuple) else ty
    e_out = ey[0] if isinstance(ey, tuple) else ey
    assert_close(e_out, t_out, dtype)
    g = rng.standard_normal(tuple(t_out.shape)).astype(dtype)
    t_out.backward(torch.tensor(g))
    e_out.backward(ember.tensor(g))
    assert_close(ex.grad, tx.grad, dtype)
    t_params = dict(t_mod.named_parameters())
    e_params = dict(e_mod.named_parameters())
    assert list(e_params) == list(t_params)
    for name, tp in t_params.items():
        assert_close(e_params[name].grad, tp.grad, dtype)
    return ey, ty


def assert_same_layout(e_mod, t_mod):
    assert repr(e_mod) == repr(t_mod)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())
    for (en, ep), (tn, tp) in zip(e_mod.named_parameters(), t_mod.named_parameters()):
        assert en == tn and tuple(ep.shape) == tuple(tp.shape)


# ------------------------------------------------------------------------------ convolutions
CONV_CASES = [
    # (class, args, kwargs, input shape)
    ("Conv2d", (4, 6, 3), {}, (2, 4, 9, 8)),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=2, padding=1, dilation=(2, 1), groups=2,
                                     bias=False), (2, 4, 9, 8)),
    ("Conv2d", (3, 4, 1), dict(stride=(1, 2)), (1, 3, 5, 6)),
    ("Conv2d", (4, 4, 3), dict(groups=4, padding=(2, 0)), (2, 4, 6, 7)),
    ("Conv2d", (4, 5, (3, 4)), dict(padding="same", dilation=(1, 2)), (2, 4, 7, 9)),
    ("Conv2d", (4, 5, 3), dict(padding="valid"), (2, 4, 7, 9)),
    ("Conv2d", (4, 6, 3), dict(padding="same", padding_mode="reflect"), (2, 4, 9, 8)),
    ("Conv2d", (4, 6, 3), dict(padding=(2, 1), padding_mode="circular", stride=2), (2, 4, 9, 8)),
    ("Conv2d", (4, 6, (2, 4)), dict(padding="same", padding_mode="replicate"), (2, 4, 6, 8)),
    ("Conv2d", (4, 6, 3), dict(padding=1, padding_mode="zeros"), (4, 9, 8)),       # unbatched
    ("Conv1d", (4, 6, 3), {}, (2, 4, 10)),
    ("Conv1d", (4, 6, 5), dict(stride=2, padding=2, dilation=2, groups=2), (2, 4, 17)),
    ("Conv1d", (4, 6, 4), dict(padding="same", padding_mode="reflect", bias=False), (2, 4, 9)),
    ("Conv1d", (4, 6, 3), dict(padding=3, padding_mode="circular"), (4, 9)),
    ("ConvTranspose2d", (4, 6, 3), {}, (2, 4, 5, 6)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1), (2, 4, 5, 6)),
    ("ConvTranspose2d", (4, 6, (3, 2)), dict(stride=(2, 3), padding=(0, 1), groups=2,
                                              dilation=(2, 1), bias=False), (2, 4, 5, 6)),
    ("ConvTranspose2d", (4, 2, 2), dict(stride=2), (4, 3, 3)),                      # unbatched
    ("ConvTranspose1d", (4, 6, 3), {}, (2, 4, 7)),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=3, padding=1, output_padding=2, groups=2,
                                        dilation=2), (2, 4, 7)),
    ("ConvTranspose1d", (4, 6, 4), dict(stride=2, bias=False), (4, 7)),
]


@DTYPES
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c[0]}{c[1]}{c[2]}{c[3]}")
def test_conv_matches_torch(case, dtype, rng):
    torch = _torch()
    cls, args, kwargs, shape = case
    t_mod = getattr(torch.nn, cls)(*args, **kwargs).to(_tdtype(torch, dtype))
    e_mod = getattr(nn, cls)(*args, **kwargs, dtype=getattr(ember, np.dtype(dtype).name))
    assert e_mod.weight.dtype == getattr(ember, np.dtype(dtype).name)
    assert_same_layout(e_mod, t_mod)
    for attr in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
                 "output_padding", "groups", "padding_mode", "transposed",
                 "_reversed_padding_repeated_twice"):
        assert tuple(np.atleast_1d(getattr(e_mod, attr))) == \
            tuple(np.atleast_1d(getattr(t_mod, attr))), attr
    copy_weights(e_mod, t_mod)
    run_both(e_mod, t_mod, rng.standard_normal(shape).astype(dtype), dtype, rng)


def test_conv_defaults_and_reprs():
    torch = _torch()
    for cls in ("Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"):
        e_mod, t_mod = getattr(nn, cls)(2, 4, 3), getattr(torch.nn, cls)(2, 4, 3)
        assert repr(e_mod) == repr(t_mod)
        assert e_mod.weight.dtype == ember.float32
        assert e_mod.weight.requires_grad and e_mod.bias.requires_grad
        assert list(e_mod.state_dict()) == ["weight", "bias"]
    e_mod = nn.Conv2d(2, 4, 3, bias=False)
    assert e_mod.bias is None and list(e_mod.state_dict()) == ["weight"]
    # list arguments are kept as tuples, like torch's _pair
    e_mod = nn.Conv2d(2, 4, [3, 5], stride=[1, 2], padding=[0, 1])
    t_mod = torch.nn.Conv2d(2, 4, [3, 5], stride=[1, 2], padding=[0, 1])
    assert repr(e_mod) == repr(t_mod)
    assert e_mod.kernel_size == (3, 5) and e_mod.stride == (1, 2)


@pytest.mark.parametrize("output_size", [[10, 12], [11, 13], [2, 6, 11, 12], (9, 11)],
                         ids=str)
@pytest.mark.parametrize("cls", ["ConvTranspose2d", "ConvTranspose1d"])
def test_conv_transpose_output_size(cls, output_size, rng):
    torch = _torch()
    t_mod = getattr(torch.nn, cls)(4, 6, 3, stride=2, padding=1).double()
    e_mod = getattr(nn, cls)(4, 6, 3, stride=2, padding=1, dtype=ember.float64)
    copy_weights(e_mod, t_mod)
    if cls == "ConvTranspose1d":
        shape, output_size = (2, 4, 6), list(output_size)[-1:]
    else:
        shape = (2, 4, 5, 6)
    x = rng.standard_normal(shape)
    try:
        t_mod(torch.tensor(x), output_size=output_size)
    except ValueError as e:
        with pytest.raises(ValueError, match="valid sizes range from"):
            e_mod(ember.tensor(x), output_size=output_size)
        assert "valid sizes" in str(e)
        return
    ey, _ = run_both(e_mod, t_mod, x, np.float64, rng, output_size=output_size)
    assert tuple(ey.shape)[2:] == tuple(output_size)[-len(shape) + 2:]


def test_conv_transpose_output_size_errors(rng):
    torch = _torch()
    x = rng.standard_normal((2, 4, 5, 6))
    for mod in (torch.nn.ConvTranspose2d(4, 6, 3, stride=2), nn.ConvTranspose2d(4, 6, 3, stride=2)):
        xx = torch.tensor(x) if mod.__module__.startswith("torch") else ember.tensor(x)
        with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
            mod(xx.float(), output_size=[11])
        with pytest.raises(ValueError, match=r"requested an output size of \[10, 13\]"):
            mod(xx.float(), output_size=[10, 13])     # height below the minimum 11


def test_conv_transpose_1d_unbatched_output_size(rng):
    torch = _torch()
    t_mod = torch.nn.ConvTranspose1d(4, 3, 3, stride=3).double()
    e_mod = nn.ConvTranspose1d(4, 3, 3, stride=3, dtype=ember.float64)
    copy_weights(e_mod, t_mod)
    ey, ty = run_both(e_mod, t_mod, rng.standard_normal((4, 5)), np.float64, rng,
                      output_size=[3, 16])
    assert tuple(ey.shape) == tuple(ty.shape) == (3, 16)


def _fan_in(shape):
    return shape[1] * int(np.prod(shape[2:]))


@pytest.mark.parametrize("cls,args", [
    ("Conv2d", (64, 96, 3)),
    ("Conv2d", (32, 2048, (1, 2), 1, 0, 1, 16)),      # grouped: fan_in = 2 * 2
    ("Conv1d", (48, 1500, 5)),
    ("ConvTranspose2d", (96, 64, 3)),                 # fan_in = out_channels * k * k
    ("ConvTranspose1d", (40, 1200, 4, 1, 0, 0, 4)),
], ids=lambda a: str(a))
def test_conv_default_init_matches_torch_formula(cls, args):
    torch = _torch()
    ember.manual_seed(7)
    e_mod = getattr(nn, cls)(*args)
    t_mod = getattr(torch.nn, cls)(*args)
    w, b = e_mod.weight.detach().numpy().copy(), e_mod.bias.detach().numpy().copy()
    tw, tb = t_mod.weight.detach().numpy(), t_mod.bias.detach().numpy()
    assert w.shape == tw.shape and b.shape == tb.shape
    fan_in = _fan_in(w.shape)
    bound = 1 / math.sqrt(fan_in)        # kaiming_uniform_(a=sqrt(5)) and the bias bound
    for ours, theirs in ((w, tw), (b, tb)):
        # torch's own draws respect the same bound: the formula is torch's
        assert np.abs(theirs).max() <= bound
        assert np.abs(ours).max() <= bound
        n = ours.size
        # U(-bound, bound): mean 0, std bound/sqrt(3); ~5 standard errors of slack
        assert abs(ours.mean()) < 5 * bound / math.sqrt(3 * n)
        assert abs(ours.std() - bound / math.sqrt(3)) < 5 * bound * math.sqrt(4 / 45 / n)
        assert np.abs(ours).max() > bound * (1 - 20 / n)
    # seeded: reset_parameters redraws reproducibly from ember's generator
    ember.manual_seed(7)
    again = getattr(nn, cls)(*args)
    np.testing.assert_array_equal(again.weight.detach().numpy(), w)
    e_mod.reset_parameters()
    assert not np.array_equal(e_mod.weight.detach().numpy(), w)


def test_conv_init_dtype_and_empty_kernel():
    torch = _torch()
    e_mod = nn.Conv2d(3, 5, 3, dtype=ember.float64)
    assert e_mod.weight.dtype == ember.float64 and e_mod.bias.dtype == ember.float64
    # an empty kernel: fan_in 0, torch warns and leaves the bias at U(0, 0) = 0
    with pytest.warns(UserWarning):
        t_mod = torch.nn.Conv2d(2, 3, (0, 3))
    with pytest.warns(UserWarning):
        e_mod = nn.Conv2d(2, 3, (0, 3))
    assert tuple(e_mod.weight.shape) == tuple(t_mod.weight.shape) == (3, 2, 0, 3)
    np.testing.assert_array_equal(e_mod.bias.detach().numpy(), t_mod.bias.detach().numpy())
    np.testing.assert_array_equal(e_mod.bias.detach().numpy(), np.zeros(3, np.float32))


@pytest.mark.parametrize("cls,args,kwargs,match", [
    ("Conv2d", (4, 6, 3), dict(groups=0), "groups must be a positive integer"),
    ("Conv2d", (4, 6, 3), dict(groups=3), "in_channels must be divisible by groups"),
    ("Conv2d", (4, 6, 3), dict(groups=4), "out_channels must be divisible by groups"),
    ("Conv2d", (4, 6, 3), dict(padding="full"), "Invalid padding string 'full'"),
    ("Conv2d", (4, 6, 3), dict(padding="same", stride=2),
     "padding='same' is not supported for strided convolutions"),
    ("Conv1d", (4, 6, 3), dict(padding_mode="mirror"),
     "padding_mode must be one of .* but got padding_mode='mirror'"),
    ("ConvTranspose2d", (4, 6, 3), dict(padding_mode="reflect"),
     'Only "zeros" padding mode is supported for ConvTranspose2d'),
    ("ConvTranspose1d", (4, 6, 3), dict(padding_mode="circular"),
     'Only "zeros" padding mode is supported for ConvTranspose1d'),
])
def test_conv_constructor_errors_match_torch(cls, args, kwargs, match):
    torch = _torch()
    with pytest.raises(ValueError, match=match):
        getattr(torch.nn, cls)(*args, **kwargs)
    with pytest.raises(ValueError, match=match):
        getattr(nn, cls)(*args, **kwargs)


@pytest.mark.parametrize("cls,args,kwargs,match", [
    ("Conv2d", (2, 3, 0), {}, "kernel"),
    ("Conv2d", (2, 3, 3), dict(stride=(1, 0)), "stride"),
    ("Conv1d", (2, 3, 3), dict(padding=-1), "padding"),
    ("Conv2d", (2, 3, 3), dict(dilation=0), "dilation"),
    ("ConvTranspose2d", (2, 3, 3), dict(stride=0), "stride"),
    ("ConvTranspose2d", (2, 3, 3), dict(stride=2, output_padding=2), "output_padding"),
])
def test_conv_bad_geometry_raises_at_forward_like_torch(cls, args, kwargs, match, rng):
    """torch builds these layers and refuses them in forward with a RuntimeError."""
    torch = _torch()
    x = rng.standard_normal((1, 2, 6, 6) if cls.endswith("2d") else (1, 2, 6))
    x = x.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # initialising an empty kernel warns in both
        t_mod, e_mod = getattr(torch.nn, cls)(*args, **kwargs), getattr(nn, cls)(*args, **kwargs)
    assert repr(e_mod) == repr(t_mod)
    with pytest.raises(RuntimeError):
        t_mod(torch.tensor(x))
    with pytest.raises(RuntimeError, match=match):
        e_mod(ember.tensor(x))


def test_conv_bad_argument_types_name_the_argument():
    torch = _torch()
    for args in ((2.0, 3, 3), (2, 3, 2.5)):
        with pytest.raises(TypeError):
            torch.nn.Conv2d(*args)
    with pytest.raises(TypeError, match="in_channels"):
        nn.Conv2d(2.0, 3, 3)
    with pytest.raises(TypeError, match="kernel_size"):
        nn.Conv2d(2, 3, 2.5)
    with pytest.raises(TypeError, match="groups"):
        nn.Conv2d(2, 4, 3, groups=2.0)
    with pytest.raises(RuntimeError, match="negative dimension: out_channels=-2"):
        nn.Conv2d(2, -2, 3)
    with pytest.raises(ValueError, match="padding"):
        nn.ConvTranspose2d(2, 3, 3, padding="same")
    with pytest.raises(TypeError, match="stride"):
        nn.Conv2d(2, 3, 3, stride=1.5)(ember.zeros(1, 2, 5, 5))


def test_conv_forward_errors_match_torch(rng):
    torch = _torch()
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    # wrong channel count, too small input: RuntimeError in both
    for t_x, e_x in ((x, x), (x[:, :, :1, :1], x[:, :, :1, :1])):
        with pytest.raises(RuntimeError):
            torch.nn.Conv2d(4, 2, 3)(torch.tensor(t_x))
        with pytest.raises(RuntimeError):
            nn.Conv2d(4, 2, 3)(ember.tensor(e_x))
    # float64 input to a float32 layer
    with pytest.raises(RuntimeError, match="should be the same"):
        nn.Conv2d(3, 2, 3)(ember.tensor(x.astype(np.float64)))
    # reflect padding larger than the input
    with pytest.raises(RuntimeError):
        torch.nn.Conv2d(3, 2, 3, padding=8, padding_mode="reflect")(torch.tensor(x))
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        nn.Conv2d(3, 2, 3, padding=8, padding_mode="reflect")(ember.tensor(x))


@pytest.mark.parametrize("make,shape", [
    (lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect", dtype=ember.float64),
     (2, 2, 4, 5)),
    (lambda: nn.Conv2d(2, 2, (2, 3), padding="same", dilation=2, groups=2,
                       padding_mode="circular", dtype=ember.float64), (1, 2, 5, 5)),
    (lambda: nn.Conv1d(2, 3, 3, stride=2, padding=1, padding_mode="replicate",
                       dtype=ember.float64), (2, 2, 7)),
    (lambda: nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1,
                                dtype=ember.float64), (1, 2, 3, 4)),
    (lambda: nn.ConvTranspose1d(2, 4, 3, stride=2, groups=2, dtype=ember.float64), (2, 2, 4)),
], ids=["conv2d-reflect", "conv2d-circular-same", "conv1d-replicate", "convT2d", "convT1d"])
def test_conv_gradcheck(make, shape, rng):
    mod = make()
    x = ember.tensor(rng.standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda x, w, b: _call_with_params(mod, x, w, b), (x, mod.weight, mod.bias))


def _call_with_params(mod, x, w, b):
    """mod(x) with its weight and bias replaced by w and b (gradcheck perturbs those)."""
    saved = mod._parameters["weight"], mod._parameters["bias"]
    mod._parameters["weight"], mod._parameters["bias"] = w, b
    try:
        return mod(x)
    finally:
        mod._parameters["weight"], mod._parameters["bias"] = saved


def test_conv_reference_values(rng):
    """Conv2d with a reflect padding mode against a plain NumPy loop."""
    x = rng.standard_normal((1, 2, 5, 6))
    mod = nn.Conv2d(2, 3, (3, 2), padding=(1, 2), stride=(2, 1), padding_mode="reflect",
                    dtype=ember.float64)
    w, b = mod.weight.detach().numpy(), mod.bias.detach().numpy()
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2)), mode="reflect")
    oh, ow = (xp.shape[2] - 3) // 2 + 1, xp.shape[3] - 2 + 1
    ref = np.empty((1, 3, oh, ow))
    for o in range(3):
        for i in range(oh):
            for j in range(ow):
                ref[0, o, i, j] = (xp[0, :, 2 * i:2 * i + 3, j:j + 2] * w[o]).sum() + b[o]
    np.testing.assert_allclose(mod(ember.tensor(x)).detach().numpy(), ref, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------------ pooling
POOL_CASES = [
    ("MaxPool2d", (2,), {}, (2, 3, 8, 9)),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 8, 9)),
    ("MaxPool2d", ((2, 3),), dict(stride=(1, 2), dilation=(2, 1)), (3, 8, 9)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1), (2, 3, 8, 9)),
    ("AvgPool2d", ((3, 2),), dict(padding=(1, 0), ceil_mode=True, count_include_pad=False),
     (2, 3, 8, 9)),
    ("AvgPool2d", (2,), dict(divisor_override=3), (3, 8, 9)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 8, 9)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 8, 9)),
    ("AdaptiveMaxPool2d", ((4, 5),), {}, (2, 3, 8, 9)),
    ("LPPool2d", (2, 3), dict(stride=2), (2, 3, 8, 9)),
    ("LPPool2d", (1.5, (2, 3)), {}, (2, 3, 8, 9)),
    ("MaxPool1d", (3,), dict(stride=2, padding=1, dilation=2), (2, 3, 11)),
    ("MaxPool1d", (2,), dict(ceil_mode=True), (3, 11)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1), (2, 3, 11)),
    ("AvgPool1d", (4,), dict(padding=2, ceil_mode=True, count_include_pad=False), (3, 11)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 11)),
    ("AdaptiveMaxPool1d", (5,), {}, (2, 3, 11)),
    ("LPPool1d", (2, 3), dict(stride=2), (2, 3, 11)),
]


@DTYPES
@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: f"{c[0]}{c[1]}{c[2]}{c[3]}")
def test_pool_matches_torch(case, dtype, rng):
    torch = _torch()
    cls, args, kwargs, shape = case
    t_mod, e_mod = getattr(torch.nn, cls)(*args, **kwargs), getattr(nn, cls)(*args, **kwargs)
    assert_same_layout(e_mod, t_mod)
    assert e_mod.state_dict() == {} and list(e_mod.parameters()) == []
    x = rng.standard_normal(shape).astype(dtype)
    if cls.startswith("LPPool"):
        x = np.abs(x) + 0.1        # fractional powers of negatives are NaN in both
    run_both(e_mod, t_mod, x, dtype, rng)


@pytest.mark.parametrize("cls,args,shape", [
    ("MaxPool2d", (3, 2, 1), (2, 3, 8, 9)), ("AdaptiveMaxPool2d", ((3, 4),), (2, 3, 8, 9)),
    ("MaxPool1d", (2,), (2, 3, 9)), ("AdaptiveMaxPool1d", (4,), (3, 9))])
def test_pool_return_indices_match_torch(cls, args, shape, rng):
    torch = _torch()
    x = rng.standard_normal(shape)
    t_mod = getattr(torch.nn, cls)(*args, return_indices=True)
    e_mod = getattr(nn, cls)(*args, return_indices=True)
    (ty, ti), (ey, ei) = t_mod(torch.tensor(x)), e_mod(ember.tensor(x))
    np.testing.assert_array_equal(ey.numpy(), ty.numpy())
    assert ei.dtype == ember.int64
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("output_size", [None, "bigger"])
def test_max_unpool_matches_torch(dims, output_size, rng):
    torch = _torch()
    shape = (2, 3, 9) if dims == 1 else (2, 3, 7, 9)
    tp = getattr(torch.nn, f"MaxPool{dims}d")(3, stride=2, return_indices=True)
    ep = getattr(nn, f"MaxPool{dims}d")(3, stride=2, return_indices=True)
    tu = getattr(torch.nn, f"MaxUnpool{dims}d")(3, stride=2)
    eu = getattr(nn, f"MaxUnpool{dims}d")(3, stride=2)
    assert repr(eu) == repr(tu) and eu.state_dict() == {}
    x = rng.standard_normal(shape)
    (ty, ti), (ey, ei) = tp(torch.tensor(x)), ep(ember.tensor(x))
    size = None if output_size is None else [s + 1 for s in shape[2:]]
    tx = ty.detach().clone().requires_grad_(True)
    ex = ember.tensor(ey.numpy(), requires_grad=True)
    tz, ez = tu(tx, ti, output_size=size), eu(ex, ei, output_size=size)
    np.testing.assert_array_equal(ez.detach().numpy(), tz.detach().numpy())
    g = rng.standard_normal(tuple(tz.shape))
    tz.backward(torch.tensor(g))
    ez.backward(ember.tensor(g))
    np.testing.assert_array_equal(ex.grad.numpy(), tx.grad.numpy())
    with pytest.raises(ValueError):
        tu(tx, ti, output_size=[s + 5 for s in shape[2:]])
    with pytest.raises(ValueError):
        eu(ex, ei, output_size=[s + 5 for s in shape[2:]])


def test_pool_reprs_and_attributes_match_torch():
    torch = _torch()
    for cls, args, kwargs in [("MaxPool2d", (3,), dict(stride=None, padding=1)),
                              ("MaxPool1d", (2,), dict(stride=1, ceil_mode=True)),
                              ("AvgPool2d", ((2, 3),), {}), ("AvgPool1d", (2,), {}),
                              ("AdaptiveAvgPool2d", ((None, 2),), {}),
                              ("AdaptiveMaxPool1d", (3,), dict(return_indices=True)),
                              ("MaxUnpool2d", ((2, 3),), dict(padding=1)),
                              ("LPPool2d", (2, 3), {}), ("LPPool1d", (3.0, 2), dict(stride=1))]:
        t_mod, e_mod = getattr(torch.nn, cls)(*args, **kwargs), getattr(nn, cls)(*args, **kwargs)
        assert repr(e_mod) == repr(t_mod)
        for attr in ("kernel_size", "stride", "padding", "dilation", "ceil_mode",
                     "count_include_pad", "divisor_override", "output_size", "return_indices",
                     "norm_type"):
            if hasattr(t_mod, attr):
                assert getattr(e_mod, attr) == getattr(t_mod, attr), (cls, attr)


@pytest.mark.parametrize("cls,args,shape,error", [
    ("MaxPool2d", (3, 1, 2), (1, 2, 6, 6), RuntimeError),   # padding > kernel/2
    ("MaxPool2d", (0,), (1, 2, 6, 6), RuntimeError),
    ("AvgPool2d", (7,), (1, 2, 6, 6), RuntimeError),        # window larger than the input
    ("MaxPool1d", (2,), (2, 2, 3, 6), RuntimeError),        # 4-D input to a 1-D pool
    ("AdaptiveAvgPool2d", ((2, 3, 4),), (1, 2, 6, 6), RuntimeError),
])
def test_pool_forward_errors_match_torch(cls, args, shape, error, rng):
    torch = _torch()
    x = rng.standard_normal(shape).astype(np.float32)
    with pytest.raises(error):
        getattr(torch.nn, cls)(*args)(torch.tensor(x))
    with pytest.raises(error):
        getattr(nn, cls)(*args)(ember.tensor(x))


@pytest.mark.parametrize("mod,shape", [
    (nn.MaxPool2d(3, 2, 1, ceil_mode=True), (1, 2, 6, 7)),
    (nn.AvgPool2d(3, 2, 1, count_include_pad=False), (1, 2, 6, 7)),
    (nn.AdaptiveAvgPool2d((4, 3)), (1, 2, 6, 7)),
    (nn.AdaptiveMaxPool1d(4), (2, 2, 7)),
    (nn.LPPool2d(2, 2), (1, 2, 6, 6)),
    (nn.LPPool1d(3, 3, stride=2), (1, 2, 9)),
], ids=lambda m: repr(m) if isinstance(m, nn.Module) else str(m))
def test_pool_gradcheck(mod, shape, rng):
    # distinct, positive values: no max ties, and real p-th roots
    x = rng.permutation(np.prod(shape)).reshape(shape) / np.prod(shape) + 0.5
    assert gradcheck(mod, (ember.tensor(x, requires_grad=True),))


def test_pool_reference_values(rng):
    x = rng.standard_normal((2, 3, 6, 8))
    blocks = x.reshape(2, 3, 3, 2, 4, 2)
    np.testing.assert_array_equal(nn.MaxPool2d(2)(ember.tensor(x)).numpy(),
                                  blocks.max(axis=(3, 5)))
    np.testing.assert_allclose(nn.AvgPool2d(2)(ember.tensor(x)).numpy(),
                               blocks.mean(axis=(3, 5)), rtol=1e-12)
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(ember.tensor(x)).numpy(),
                               x.mean(axis=(2, 3), keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(nn.LPPool2d(2, 2)(ember.tensor(x)).numpy(),
                               np.sqrt((blocks ** 2).sum(axis=(3, 5))), rtol=1e-12)


# ------------------------------------------------------------------------------ padding layers
PAD_CASES = [
    ("ZeroPad2d", (1,), (2, 3, 5, 6)), ("ZeroPad2d", ((1, 0, 2, -1),), (3, 5, 6)),
    ("ZeroPad1d", ((2, 1),), (2, 3, 5)),
    ("ConstantPad2d", ((1, 2, 0, 3), 1.5), (2, 3, 5, 6)),
    ("ConstantPad1d", (2, -1.0), (3, 5)),
    ("ConstantPad3d", ((1, 0, 2, 1, 0, 1), 0.5), (1, 2, 3, 4, 5)),
    ("ReflectionPad2d", ((1, 2, 3, 4),), (2, 3, 5, 6)), ("ReflectionPad2d", (2,), (3, 5, 6)),
    ("ReflectionPad1d", (2,), (2, 3, 5)), ("ReflectionPad3d", (1,), (1, 2, 3, 4, 5)),
    ("ReplicationPad2d", ((2, 0, 1, 3),), (2, 3, 5, 6)), ("ReplicationPad1d", ((1, 3),), (3, 5)),
    ("ReplicationPad3d", ((1, 2, 0, 1, 2, 0),), (1, 2, 3, 4, 5)),
    ("CircularPad2d", ((1, 2, 3, 0),), (2, 3, 5, 6)), ("CircularPad1d", (2,), (3, 5)),
    ("CircularPad3d", (1,), (2, 3, 4, 5)),
]


@DTYPES
@pytest.mark.parametrize("case", PAD_CASES, ids=lambda c: f"{c[0]}{c[1]}{c[2]}")
def test_padding_layers_match_torch(case, dtype, rng):
    torch = _torch()
    cls, args, shape = case
    t_mod, e_mod = getattr(torch.nn, cls)(*args), getattr(nn, cls)(*args)
    assert_same_layout(e_mod, t_mod)
    assert e_mod.padding == t_mod.padding and e_mod.state_dict() == {}
    run_both(e_mod, t_mod, rng.standard_normal(shape).astype(dtype), dtype, rng)


def test_padding_layer_errors_match_torch(rng):
    torch = _torch()
    x = rng.standard_normal((5, 6)).astype(np.float32)
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        torch.nn.CircularPad2d(1)(torch.tensor(x))
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.CircularPad2d(1)(ember.tensor(x))
    with pytest.raises(RuntimeError):
        torch.nn.ReflectionPad1d(6)(torch.tensor(x))
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        nn.ReflectionPad1d(6)(ember.tensor(x))


def test_padding_layer_reference_values():
    x = np.arange(12.0).reshape(1, 3, 4)
    np.testing.assert_array_equal(nn.ReflectionPad1d((2, 1))(ember.tensor(x)).numpy(),
                                  np.pad(x, ((0, 0), (0, 0), (2, 1)), mode="reflect"))
    np.testing.assert_array_equal(nn.ReplicationPad2d((1, 0, 0, 2))(ember.tensor(x)).numpy(),
                                  np.pad(x, ((0, 0), (0, 2), (1, 0)), mode="edge"))
    np.testing.assert_array_equal(nn.CircularPad1d(3)(ember.tensor(x)).numpy(),
                                  np.pad(x, ((0, 0), (0, 0), (3, 3)), mode="wrap"))
    np.testing.assert_array_equal(nn.ConstantPad2d(1, 7.0)(ember.tensor(x)).numpy(),
                                  np.pad(x, ((0, 0), (1, 1), (1, 1)), constant_values=7.0))


# ------------------------------------------------------------------------------ upsampling
UPSAMPLE_CASES = [
    ("Upsample", dict(scale_factor=2), (2, 3, 4, 5)),
    ("Upsample", dict(scale_factor=(1.5, 2.5), mode="nearest-exact"), (2, 3, 4, 5)),
    ("Upsample", dict(size=(7, 9), mode="bilinear"), (2, 3, 4, 5)),
    ("Upsample", dict(scale_factor=1.7, mode="bilinear", align_corners=True), (2, 3, 4, 5)),
    ("Upsample", dict(size=11, mode="linear"), (2, 3, 5)),
    ("Upsample", dict(scale_factor=0.5, mode="area"), (2, 3, 8, 6)),
    ("Upsample", dict(scale_factor=2, mode="trilinear"), (1, 2, 3, 4, 5)),
    ("Upsample", dict(scale_factor=1.5, mode="bilinear", recompute_scale_factor=True),
     (2, 3, 5, 5)),
    ("UpsamplingNearest2d", dict(size=11), (2, 3, 4, 5)),
    ("UpsamplingNearest2d", dict(scale_factor=3), (2, 3, 4, 5)),
    ("UpsamplingBilinear2d", dict(scale_factor=2), (2, 3, 4, 5)),
    ("UpsamplingBilinear2d", dict(size=(3, 8)), (2, 3, 4, 5)),
]


@DTYPES
@pytest.mark.parametrize("case", UPSAMPLE_CASES, ids=lambda c: f"{c[0]}{c[1]}{c[2]}")
def test_upsample_layers_match_torch(case, dtype, rng):
    torch = _torch()
    cls, kwargs, shape = case
    t_mod, e_mod = getattr(torch.nn, cls)(**kwargs), getattr(nn, cls)(**kwargs)
    assert_same_layout(e_mod, t_mod)
    for attr in ("name", "size", "scale_factor", "mode", "align_corners",
                 "recompute_scale_factor"):
        assert getattr(e_mod, attr) == getattr(t_mod, attr), attr
    run_both(e_mod, t_mod, rng.standard_normal(shape).astype(dtype), dtype, rng)


def test_upsample_errors_match_torch(rng):
    torch = _torch()
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    for kwargs, error in [(dict(), ValueError), (dict(size=3, scale_factor=2), ValueError),
                          (dict(scale_factor=2, align_corners=True), ValueError),
                          (dict(scale_factor=2, mode="linear"), NotImplementedError)]:
        with pytest.raises(error):
            torch.nn.Upsample(**kwargs)(torch.tensor(x))
        with pytest.raises(error):
            nn.Upsample(**kwargs)(ember.tensor(x))


# ------------------------------------------------------------------------------ a small CNN
def _cnn(lib):
    n = lib.nn
    return n.Sequential(
        n.Conv2d(3, 8, 3, padding=1), n.ReLU(), n.MaxPool2d(2),
        n.Conv2d(8, 8, 3, padding="same", padding_mode="reflect", groups=2), n.ReLU(),
        n.Upsample(scale_factor=2, mode="bilinear"), n.ReflectionPad2d(1),
        n.Conv2d(8, 6, 3, stride=2), n.AvgPool2d(2, ceil_mode=True),
        n.ConvTranspose2d(6, 4, 2, stride=2), n.AdaptiveAvgPool2d((2, 2)), n.Flatten(),
        n.Linear(16, 5))


@DTYPES
def test_small_cnn_matches_torch(dtype, rng):
    torch = _torch()
    t_net = _cnn(torch).to(_tdtype(torch, dtype))
    e_net = _cnn(ember).to(getattr(ember, np.dtype(dtype).name))
    assert repr(e_net) == repr(t_net)
    assert list(e_net.state_dict()) == list(t_net.state_dict())
    copy_weights(e_net, t_net)
    run_both(e_net, t_net, rng.standard_normal((2, 3, 12, 12)).astype(dtype), dtype, rng)
