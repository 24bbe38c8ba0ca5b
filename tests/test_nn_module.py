"""nn.Module, Parameter, containers and nn.utils: registration, traversal, state_dict, hooks,
modes and conversions. The same model is built with ember and with torch (the oracle), and the
names, keys, reprs, messages and values must agree. Tests that need torch skip without it."""
from __future__ import annotations

import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn


def _torch():
    return pytest.importorskip("torch")


def to_np(t):
    return None if t is None else np.array(t.detach().numpy())


def make_net(lib):
    """A nested model touching every registration path: parameters (incl. None), persistent and
    non-persistent buffers, Sequential with OrderedDict names, ModuleList, ModuleDict,
    ParameterList/Dict, a shared submodule and a tied parameter."""
    tnn = lib.nn

    class Block(tnn.Module):
        def __init__(self, n):
            super().__init__()
            self.fc = tnn.Linear(n, n)
            self.register_buffer("scale", lib.ones(n))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)
            self.shift = tnn.Parameter(lib.zeros(n))
            self.register_parameter("unused", None)

        def forward(self, x):
            return self.fc(x) * self.scale + self.shift

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            self.embed = tnn.Embedding(10, 4, padding_idx=0)
            self.blocks = tnn.ModuleList([Block(4), Block(4)])
            self.head = tnn.Sequential(OrderedDict(act=tnn.Identity(),
                                                   out=tnn.Linear(4, 3, bias=False)))
            self.extra = tnn.ModuleDict({"b": tnn.Linear(3, 2), "a": tnn.Flatten()})
            self.plist = tnn.ParameterList([tnn.Parameter(lib.ones(2, 3)), lib.zeros(3)])
            self.pdict = tnn.ParameterDict({"y": tnn.Parameter(lib.ones(1)),
                                            "x": tnn.Parameter(lib.ones(2))})
            self.shared = self.blocks[0]              # the same module under a second name
            self.tied = tnn.Linear(4, 10, bias=False)
            self.tied.weight = self.embed.weight      # a tied parameter

        def forward(self, idx):
            h = self.embed(idx)
            for b in self.blocks:
                h = b(h)
            return self.extra["b"](self.head(h))

    return Net()


# ------------------------------------------------------------------------------ Parameter
def test_parameter_basics():
    data = ember.tensor([1.0, 2.0])
    p = nn.Parameter(data)
    assert isinstance(p, ember.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    p.detach()._data[0] = 5.0
    assert data[0].item() == 5.0, "Parameter must share memory with its data"
    assert not nn.Parameter(data, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    assert repr(p) == "Parameter containing:\n" + repr(data.detach().requires_grad_(True))
    assert nn.parameter.Parameter is nn.Parameter


def test_parameter_from_graph_tensor_is_a_leaf():
    x = ember.ones(3, requires_grad=True)
    p = nn.Parameter(x * 2)
    assert p.is_leaf and p.requires_grad
    (p * 3).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), [3, 3, 3])
    assert x.grad is None


def test_parameter_copy_and_pickle():
    p = nn.Parameter(ember.tensor([1.0, 2.0]), requires_grad=False)
    for q in (copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert type(q) is nn.Parameter and not q.requires_grad
        np.testing.assert_array_equal(q.detach().numpy(), [1.0, 2.0])
        q.detach()._data[0] = 9
        assert p[0].item() == 1.0


def test_parameter_refuses_integer_data():
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(ember.tensor([1, 2]))


def test_parameter_repr_matches_torch():
    torch = _torch()
    data = np.array([[0.5, -1.25], [2.0, 3.0]], np.float32)
    assert repr(nn.Parameter(ember.tensor(data))) == \
        repr(torch.nn.Parameter(torch.tensor(data))).replace("torch.", "ember.")


# ------------------------------------------------------------------------------ traversal
def test_names_and_order_match_torch():
    torch = _torch()
    e, t = make_net(ember), make_net(torch)
    for method in ("named_parameters", "named_buffers", "named_modules", "named_children"):
        assert [n for n, _ in getattr(e, method)()] == [n for n, _ in getattr(t, method)()], \
            method
    assert [n for n, _ in e.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in t.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in e.named_modules(remove_duplicate=False)] == \
        [n for n, _ in t.named_modules(remove_duplicate=False)]
    assert [n for n, _ in e.named_parameters(prefix="model", recurse=False)] == \
        [n for n, _ in t.named_parameters(prefix="model", recurse=False)]
    assert [n for n, _ in e.blocks[1].named_parameters(recurse=False)] == \
        [n for n, _ in t.blocks[1].named_parameters(recurse=False)]
    assert [tuple(p.shape) for p in e.parameters()] == [tuple(p.shape) for p in t.parameters()]
    assert [tuple(b.shape) for b in e.buffers()] == [tuple(b.shape) for b in t.buffers()]
    assert len(list(e.modules())) == len(list(t.modules()))
    assert len(list(e.children())) == len(list(t.children()))


def test_state_dict_keys_and_shapes_match_torch():
    torch = _torch()
    e, t = make_net(ember), make_net(torch)
    es, ts = e.state_dict(), t.state_dict()
    assert isinstance(es, OrderedDict)
    assert list(es) == list(ts)
    assert [tuple(v.shape) for v in es.values()] == [tuple(v.shape) for v in ts.values()]
    assert list(es._metadata) == list(ts._metadata)
    assert "blocks.0.scratch" not in es          # non-persistent buffer


def test_state_dict_values_are_detached_views():
    m = nn.Linear(3, 2)
    sd = m.state_dict()
    assert not sd["weight"].requires_grad and sd["weight"].grad_fn is None
    assert type(sd["weight"]) is ember.Tensor
    sd["weight"]._data[0, 0] = 42.0
    assert m.weight[0, 0].item() == 42.0, "state_dict tensors share memory (as in torch)"
    kv = m.state_dict(keep_vars=True)
    assert kv["weight"] is m.weight
    assert list(m.state_dict(prefix="enc.")) == ["enc.weight", "enc.bias"]


def test_repr_matches_torch():
    torch = _torch()
    e, t = make_net(ember), make_net(torch)
    assert repr(e) == repr(t).replace("torch.", "ember.")

    def build(tnn):
        return tnn.Sequential(tnn.Linear(2, 3), tnn.Identity(), tnn.Flatten(0, 1),
                              tnn.Unflatten(1, (2, 3)), tnn.Embedding(5, 2, max_norm=1.0),
                              tnn.Bilinear(2, 3, 4, bias=False),
                              tnn.Sequential(tnn.Linear(1, 1)),
                              tnn.ModuleList([tnn.Identity(), tnn.Identity(),
                                              tnn.Linear(1, 2)]), tnn.ModuleList())
    assert repr(build(nn)) == repr(build(torch.nn))
    assert repr(nn.Sequential(nn.Linear(2, 3), nn.Identity())) == (
        "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): Identity()\n)")


def test_custom_extra_repr_multiline():
    torch = _torch()

    def build(lib):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = lib.nn.Linear(1, 1)

            def extra_repr(self):
                return "alpha=1\nbeta=2"
        return M()
    assert repr(build(ember)) == repr(build(torch))


def test_dir_lists_registered_names():
    m = make_net(ember)
    names = dir(m)
    for key in ("embed", "blocks", "head", "forward", "training"):
        assert key in names
    assert "fc" in dir(m.blocks[0]) and "scale" in dir(m.blocks[0])
    assert not any(k[0].isdigit() for k in dir(m.blocks))


def test_get_submodule_parameter_buffer():
    m = make_net(ember)
    assert m.get_submodule("blocks.1.fc") is m.blocks[1].fc
    assert m.get_submodule("") is m
    assert m.get_parameter("blocks.0.fc.weight") is m.blocks[0].fc.weight
    assert m.get_buffer("blocks.1.scale") is m.blocks[1].scale
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        m.get_submodule("blocks.nope")
    with pytest.raises(AttributeError, match="`scale` is not an nn.Parameter"):
        m.get_parameter("blocks.0.scale")
    with pytest.raises(AttributeError, match="`fc` is not a buffer"):
        m.get_buffer("blocks.0.fc")
    new = nn.Linear(4, 4)
    m.set_submodule("blocks.0.fc", new)
    assert m.blocks[0].fc is new


# ------------------------------------------------------------------------------ registration
def test_setattr_routes_and_delattr():
    m = nn.Module()
    m.w = nn.Parameter(ember.zeros(2))
    m.sub = nn.Linear(1, 1)
    m.register_buffer("buf", ember.ones(1))
    m.plain = 3
    assert list(m._parameters) == ["w"] and list(m._modules) == ["sub"]
    assert list(m._buffers) == ["buf"] and m.__dict__["plain"] == 3
    m.buf = ember.zeros(1)                                 # stays a buffer
    assert m._buffers["buf"][0].item() == 0.0
    m.w = None                                             # parameter slot set to None
    assert m._parameters["w"] is None and m.w is None
    m.w = nn.Parameter(ember.ones(1))
    del m.w, m.sub, m.buf, m.plain
    assert not m._parameters and not m._modules and not m._buffers
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'w'"):
        m.w
    # reassigning a name as another kind moves it between the registries
    m.x = nn.Linear(1, 1)
    m.x = nn.Parameter(ember.ones(1))
    assert "x" in m._parameters and "x" not in m._modules
    m.b = nn.Buffer(ember.ones(2), persistent=False)
    assert "b" in m._buffers and "b" in m._non_persistent_buffers_set


def test_registration_errors():
    m = nn.Module()
    m.attr = 1
    with pytest.raises(TypeError, match="cannot assign 'ember.FloatTensor' object to parameter"):
        m.register_parameter("p", ember.zeros(2))
    with pytest.raises(KeyError, match="attribute 'attr' already exists"):
        m.register_parameter("attr", nn.Parameter(ember.zeros(1)))
    with pytest.raises(KeyError, match="attribute 'attr' already exists"):
        m.register_buffer("attr", ember.zeros(1))
    with pytest.raises(KeyError, match="attribute 'attr' already exists"):
        m.add_module("attr", nn.Identity())
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", nn.Parameter(ember.zeros(1)))
    with pytest.raises(KeyError, match="empty string"):
        m.register_buffer("", ember.zeros(1))
    with pytest.raises(TypeError, match="parameter name should be a string"):
        m.register_parameter(3, None)
    with pytest.raises(TypeError, match="cannot assign 'list' object to buffer"):
        m.register_buffer("b", [1, 2])
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 5)
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor"):
        x = ember.ones(1, requires_grad=True)
        p = nn.Parameter(ember.ones(1))
        p.grad_fn = (x * 2).grad_fn
        m.register_parameter("nl", p)
    m.p = nn.Parameter(ember.zeros(1))
    with pytest.raises(TypeError, match="cannot assign 'ember.FloatTensor' as parameter 'p'"):
        m.p = ember.zeros(1)
    m.c = nn.Identity()
    with pytest.raises(TypeError, match="as child module 'c'"):
        m.c = 3
    m.register_buffer("bb", ember.zeros(1))
    with pytest.raises(TypeError, match="as buffer 'bb'"):
        m.bb = 3


def test_assignment_before_init():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="cannot assign module before Module.__init__"):
        Bad()

    class BadP(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ember.zeros(1))

    with pytest.raises(AttributeError, match="cannot assign parameters before"):
        BadP()


def test_module_init_rejects_arguments_and_forward_missing():
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        nn.Module(foo=1)
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


# ------------------------------------------------------------------------------ load_state_dict
def _torch_state_as_numpy(t_model):
    return {k: v.detach().numpy().copy() for k, v in t_model.state_dict().items()}


def test_load_state_dict_from_torch_gives_identical_outputs():
    torch = _torch()
    t = make_net(torch)
    e = make_net(ember)
    with torch.no_grad():
        for p in t.parameters():
            p.normal_()                       # values unlike ember's own init
        for b in t.buffers():
            b.uniform_(0.5, 1.5)
    result = e.load_state_dict(_torch_state_as_numpy(t))
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    idx = np.array([[1, 2, 0], [9, 4, 4]])
    out_t = t(torch.tensor(idx)).detach().numpy()
    out_e = e(ember.tensor(idx)).detach().numpy()
    np.testing.assert_allclose(out_e, out_t, rtol=1e-5, atol=1e-5)
    # values copied in place: same Parameter objects, no graph, original memory
    assert e.embed.weight is e.tied.weight and e.embed.weight.grad_fn is None
    # also from ember tensors and from torch tensors directly
    e2 = make_net(ember)
    e2.load_state_dict(e.state_dict())
    np.testing.assert_array_equal(e2(ember.tensor(idx)).detach().numpy(), out_e)
    e3 = make_net(ember)
    e3.load_state_dict(t.state_dict())
    np.testing.assert_array_equal(e3(ember.tensor(idx)).detach().numpy(), out_e)


def test_load_state_dict_casts_and_copies_in_place():
    m = nn.Linear(2, 2)
    w = m.weight
    version = w._version[0]
    sd = {"weight": np.arange(4.0).reshape(2, 2), "bias": np.array([1.0, 2.0])}   # float64
    m.load_state_dict(sd)
    assert m.weight is w and w.dtype == ember.float32 and w._version[0] > version
    np.testing.assert_array_equal(w.detach().numpy(), sd["weight"])
    sd["weight"][0, 0] = 100.0
    assert w[0, 0].item() == 0.0, "load_state_dict copies the values"


def _messages(lib, sd_mutator, strict):
    model = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.Sequential(lib.nn.Linear(2, 2)))
    sd = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    sd_mutator(sd)
    if lib.__name__ == "torch":
        sd = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in sd.items()}
    try:
        res = model.load_state_dict(sd, strict=strict)
    except RuntimeError as e:
        return "raised", str(e)
    return "ok", (list(res.missing_keys), list(res.unexpected_keys))


def _mutate_all(sd):
    del sd["0.bias"]
    sd["1.0.weight"] = np.zeros((3, 2), np.float32)     # mis-shaped
    sd["0.bias"] = sd.pop("1.0.bias")[:0]                # mis-shaped (empty)
    sd["1.0.bias"] = np.zeros(2, np.float32)
    sd["1.1.weight"] = np.zeros(2, np.float32)           # unexpected (no such submodule)
    sd["extra"] = np.zeros(1, np.float32)                # unexpected


@pytest.mark.parametrize("case", ["missing", "unexpected", "shape", "all"])
@pytest.mark.parametrize("strict", [True, False])
def test_load_state_dict_errors_match_torch(case, strict):
    torch = _torch()
    mutate = {
        "missing": lambda sd: (sd.pop("0.bias"), sd.pop("1.0.weight")),
        "unexpected": lambda sd: sd.update({"2.weight": np.zeros(1, np.float32),
                                            "0.gamma": np.zeros(1, np.float32)}),
        "shape": lambda sd: sd.update({"0.weight": np.zeros((2, 4), np.float32),
                                       "1.0.bias": np.zeros(3, np.float32)}),
        "all": _mutate_all,
    }[case]
    e_kind, e_val = _messages(ember, mutate, strict)
    t_kind, t_val = _messages(torch, mutate, strict)
    assert e_kind == t_kind
    if e_kind == "raised":
        assert e_val == t_val.replace("torch.", "ember.")
    else:
        assert e_val == t_val


def test_load_state_dict_reports_every_problem():
    m = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 2))
    sd = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    del sd["1.bias"]
    sd["0.weight"] = np.zeros((5, 3), np.float32)
    sd["9.weight"] = np.zeros(1, np.float32)
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(sd)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Sequential:")
    assert 'Missing key(s) in state_dict: "1.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "9.weight".' in msg
    assert ("size mismatch for 0.weight: copying a param with shape ember.Size([5, 3]) from "
            "checkpoint, the shape in current model is ember.Size([2, 3]).") in msg
    # non-strict: shape mismatches still raise, key problems are only reported
    del sd["0.weight"]
    res = m.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["0.weight", "1.bias"] and res.unexpected_keys == ["9.weight"]
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        m.load_state_dict([1, 2])
    with pytest.raises(RuntimeError, match="expected ember.Tensor or Tensor-like"):
        m.load_state_dict({**m.state_dict(), "0.bias": [1.0, 2.0]})


def test_load_state_dict_assign_and_post_hook():
    m = nn.Linear(2, 1)
    new_w = ember.ones(1, 2)
    seen = []
    m.register_load_state_dict_post_hook(lambda mod, keys: seen.append(list(keys.missing_keys)))
    m.load_state_dict({"weight": new_w}, strict=False, assign=True)
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    assert m.weight._data is new_w._data
    assert seen == [["bias"]]


def test_extra_state_round_trip():
    class WithState(nn.Module):
        def __init__(self):
            super().__init__()
            self.counter = 0

        def get_extra_state(self):
            return {"counter": self.counter}

        def set_extra_state(self, state):
            self.counter = state["counter"]

    a, b = WithState(), WithState()
    a.counter = 7
    sd = a.state_dict()
    assert list(sd) == ["_extra_state"]
    b.load_state_dict(sd)
    assert b.counter == 7
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "_extra_state"'):
        b.load_state_dict({})
    with pytest.raises(RuntimeError, match="Unexpected key"):
        nn.Identity().load_state_dict({"_extra_state": 1})


# ------------------------------------------------------------------------------ hooks
def test_forward_pre_and_post_hooks():
    m = nn.Linear(2, 2)
    calls = []

    def pre(mod, args):
        calls.append(("pre", mod, len(args)))
        return args[0] * 0            # replaces the input (single value gets wrapped)

    def post(mod, args, out):
        calls.append(("post", float(args[0].abs().sum())))
        return out + 1

    h1 = m.register_forward_pre_hook(pre)
    h2 = m.register_forward_hook(post)
    y = m(ember.ones(3, 2))
    expected = m.bias.detach().numpy() + 1
    np.testing.assert_allclose(y.detach().numpy(), np.broadcast_to(expected, (3, 2)), rtol=1e-6)
    assert calls == [("pre", m, 1), ("post", 0.0)]
    h1.remove()
    h2.remove()
    h2.remove()                        # removing twice is harmless
    calls.clear()
    m(ember.ones(1, 2))
    assert calls == []


def test_hook_kwargs_prepend_and_context_manager():
    class Scale(nn.Module):
        def forward(self, x, *, factor=1.0):
            return x * factor

    m = Scale()
    order = []
    m.register_forward_hook(lambda mod, a, o: order.append("second"))
    m.register_forward_hook(lambda mod, a, o: order.append("first"), prepend=True)
    m.register_forward_pre_hook(lambda mod, a, k: (a, {"factor": 3.0}), with_kwargs=True)
    m.register_forward_hook(lambda mod, a, k, o: order.append(k["factor"]), with_kwargs=True)
    y = m(ember.ones(2), factor=2.0)
    np.testing.assert_array_equal(y.numpy(), [3.0, 3.0])
    assert order == ["first", "second", 3.0]
    with m.register_forward_hook(lambda mod, a, o: o * 10):
        np.testing.assert_array_equal(m(ember.ones(1)).numpy(), [30.0])
    np.testing.assert_array_equal(m(ember.ones(1)).numpy(), [3.0])
    m.register_forward_pre_hook(lambda mod, a, k: "bad", with_kwargs=True)
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
        m(ember.ones(1))


def test_always_call_hook_runs_when_forward_raises():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Boom()
    seen = []
    m.register_forward_hook(lambda mod, a, o: seen.append("always"), always_call=True)
    m.register_forward_hook(lambda mod, a, o: seen.append("normal"))
    with pytest.raises(ValueError, match="boom"):
        m(ember.ones(1))
    assert seen == ["always"]


def _hook_record(lib, x_requires_grad: bool, modify: bool):
    """A two-input, two-output module with a full backward hook (and a pre hook); returns the
    hook arguments and the input gradient, as NumPy."""
    torch = _torch()
    tnn = lib.nn

    class TwoIO(tnn.Module):
        def __init__(self):
            super().__init__()
            self.fc = tnn.Linear(3, 2)

        def forward(self, a, k, b):
            y = self.fc(a) * k + b
            return y, y.tanh()

    torch.manual_seed(0)
    m = TwoIO()
    if lib is not torch:
        tm = _hook_record.reference
        m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    else:
        _hook_record.reference = m
    rec, pre = [], []

    def hook(mod, gi, go):
        rec.append((tuple(to_np(g) for g in gi), tuple(to_np(g) for g in go)))
        if modify:
            return tuple(None if g is None else g * 2 for g in gi)

    def pre_hook(mod, go):
        pre.append(tuple(to_np(g) for g in go))

    m.register_full_backward_hook(hook)
    m.register_full_backward_pre_hook(pre_hook)
    a = lib.tensor(np.arange(6.0).reshape(2, 3) / 7, dtype=lib.float32,
                   requires_grad=x_requires_grad)
    b = lib.tensor(np.ones((2, 2)), dtype=lib.float32)
    y1, y2 = m(a, 3.0, b)
    ((y1 ** 2).sum() + (y2 * 3).sum()).backward()
    return rec, pre, to_np(a.grad), to_np(m.fc.weight.grad)


@pytest.mark.parametrize("x_requires_grad", [True, False])
@pytest.mark.parametrize("modify", [False, True])
def test_full_backward_hook_matches_torch(x_requires_grad, modify):
    torch = _torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_rec, t_pre, t_ag, t_wg = _hook_record(torch, x_requires_grad, modify)
        e_rec, e_pre, e_ag, e_wg = _hook_record(ember, x_requires_grad, modify)
    assert len(e_rec) == len(t_rec) == 1 and len(e_pre) == len(t_pre) == 1

    def same(xs, ys):
        assert len(xs) == len(ys)
        for x, y in zip(xs, ys):
            assert (x is None) == (y is None)
            if x is not None:
                np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)

    same(e_rec[0][0], t_rec[0][0])      # grad_input
    same(e_rec[0][1], t_rec[0][1])      # grad_output
    same(e_pre[0], t_pre[0])
    same([e_ag, e_wg], [t_ag, t_wg])    # a returned grad_input replaces the gradient


def test_backward_pre_hook_replaces_grad_output_and_handles_remove():
    m = nn.Linear(2, 1)
    x = ember.ones(1, 2, requires_grad=True)
    h = m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 10,))
    m(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 10 * m.weight.detach().numpy(), rtol=1e-6)
    h.remove()
    x.grad = None
    m(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), m.weight.detach().numpy(), rtol=1e-6)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input"):
        m(x).sum().backward()


def test_backward_hook_not_called_under_no_grad():
    m = nn.Linear(2, 1)
    seen = []
    m.register_full_backward_hook(lambda *a: seen.append(a))
    with ember.no_grad():
        y = m(ember.ones(1, 2, requires_grad=True))
    assert not y.requires_grad and seen == []
    with pytest.raises(NotImplementedError, match="register_full_backward_hook"):
        m.register_backward_hook(lambda *a: None)


# ------------------------------------------------------------------------------ modes, grads
def test_train_eval_propagate():
    m = make_net(ember)
    assert all(mod.training for mod in m.modules())
    assert m.eval() is m
    assert not any(mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())
    m.blocks.train(False)
    assert m.training and not m.blocks[1].fc.training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        m.train("yes")


def test_zero_grad_and_requires_grad():
    m = nn.Linear(3, 2)
    m(ember.ones(4, 3)).sum().backward()
    assert m.weight.grad is not None
    g = m.weight.grad
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is g and not g.numpy().any()
    m.zero_grad()
    assert m.weight.grad is None and m.bias.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    assert not m(ember.ones(1, 3)).requires_grad
    m.requires_grad_()
    assert all(p.requires_grad for p in m.parameters())


def test_apply_visits_children_first():
    m = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.Identity()))
    order = []
    assert m.apply(lambda mod: order.append(type(mod).__name__)) is m
    assert order == ["Linear", "Identity", "Sequential", "Sequential"]

    def init_fn(mod):
        if isinstance(mod, nn.Linear):
            nn.init.constant_(mod.weight, 0.5)
    m.apply(init_fn)
    assert m[0].weight.item() == 0.5


def test_to_double_converts_parameters_and_float_buffers():
    m = make_net(ember)
    m.register_buffer("steps", ember.tensor(3))            # integer buffer keeps its dtype
    m(ember.tensor([[1, 2]])).sum().backward()
    params = list(m.parameters())
    assert m.to(ember.float64) is m
    assert all(p.dtype == ember.float64 for p in m.parameters())
    assert all(a is b for a, b in zip(params, m.parameters())), "same Parameter objects"
    assert all(p.grad is None or p.grad.dtype == ember.float64 for p in m.parameters())
    assert m.blocks[0].scale.dtype == ember.float64 and m.steps.dtype == ember.int64
    assert m.state_dict()["blocks.0.fc.weight"].dtype == ember.float64
    out = m(ember.tensor([[1, 2]]))
    assert out.dtype == ember.float64
    m.float()
    assert all(p.dtype == ember.float32 for p in m.parameters())
    m.double()
    assert all(p.dtype == ember.float64 for p in m.parameters())
    m.to(ember.zeros(1, dtype=ember.float32))
    assert all(p.dtype == ember.float32 for p in m.parameters())
    m.to("cpu", ember.float64)
    assert all(p.dtype == ember.float64 for p in m.parameters())
    m.to(device="cpu", dtype=ember.float32)
    assert m.cpu() is m and m.to(ember.device("cpu")) is m
    assert all(p.dtype == ember.float32 for p in m.parameters())


def test_to_refuses_other_devices_and_integer_dtypes():
    m = nn.Linear(1, 1)
    with pytest.raises(RuntimeError, match="cpu"):
        m.to("cuda")
    with pytest.raises(RuntimeError, match="cpu"):
        m.to(device="cuda:0")
    with pytest.raises(RuntimeError, match="cpu"):
        m.cuda()
    with pytest.raises(TypeError, match="only accepts floating point"):
        m.to(ember.int64)


def test_deepcopy_module():
    m = make_net(ember)
    idx = ember.tensor([[1, 2, 3]])
    ref = m(idx).detach().numpy()
    c = copy.deepcopy(m)
    np.testing.assert_array_equal(c(idx).detach().numpy(), ref)
    assert c.embed.weight is c.tied.weight and c.shared is c.blocks[0]
    assert c.embed.weight is not m.embed.weight


def test_pickle_module():
    m = nn.Sequential(nn.Embedding(5, 3), nn.Linear(3, 2), nn.Flatten(0))
    m[1].register_buffer("b", ember.ones(2), persistent=False)
    m[1].register_forward_hook(_double_output)
    idx = ember.tensor([1, 4])
    c = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(c(idx).detach().numpy(), m(idx).detach().numpy())
    assert "b" in c[1]._non_persistent_buffers_set and isinstance(c[0].weight, nn.Parameter)


def _double_output(mod, args, out):
    return out * 2


# ------------------------------------------------------------------------------ containers
def test_sequential_indexing_and_editing():
    layers = [nn.Linear(2, 2), nn.Identity(), nn.Linear(2, 3)]
    s = nn.Sequential(*layers)
    assert len(s) == 3 and list(s) == layers
    assert s[0] is layers[0] and s[-1] is layers[2]
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == layers[1:]
    assert list(sub._modules) == ["1", "2"]                 # slices keep the names (torch)
    with pytest.raises(IndexError, match="index 3 is out of range"):
        s[3]
    with pytest.raises(IndexError, match="index -4 is out of range"):
        s[-4]
    new = nn.Linear(2, 2)
    s[1] = new
    assert s[1] is new
    del s[0]
    assert list(s._modules) == ["0", "1"] and s[0] is new
    s.append(nn.Identity()).insert(0, nn.Identity()).extend([nn.Identity()])
    assert len(s) == 5 and list(s._modules) == ["0", "1", "2", "3", "4"]
    assert isinstance(s.pop(0), nn.Identity) and len(s) == 4
    with pytest.raises(IndexError, match="Index out of range"):
        s.insert(10, nn.Identity())
    assert len(s + nn.Sequential(nn.Identity())) == 5
    assert len(s * 2) == 8
    with pytest.raises(ValueError, match="add operator supports only"):
        s + [1]


def test_sequential_ordered_dict_and_forward():
    s = nn.Sequential(OrderedDict([("lin", nn.Linear(2, 1)), ("id", nn.Identity())]))
    assert s.lin is s[0] and list(s.state_dict()) == ["lin.weight", "lin.bias"]
    x = ember.randn(5, 2)
    np.testing.assert_array_equal(s(x).detach().numpy(), s.lin(x).detach().numpy())


def test_sequential_editing_matches_torch():
    torch = _torch()

    def edit(tnn):
        s = tnn.Sequential(tnn.Linear(1, 1), tnn.Identity(), tnn.Linear(1, 2), tnn.Flatten())
        del s[1:3]
        s.insert(-1, tnn.Linear(2, 2))
        s.append(tnn.Identity())
        s2 = s * 2
        s2 += tnn.Sequential(tnn.Identity())
        return [n for n, _ in s2.named_modules()], [n for n, _ in s2.named_parameters()], \
            repr(s2)

    assert edit(nn) == edit(torch.nn)


def test_module_list_and_dict():
    torch = _torch()

    def build(tnn):
        ml = tnn.ModuleList([tnn.Linear(1, 1)])
        ml.append(tnn.Linear(1, 2))
        ml.extend([tnn.Identity(), tnn.Identity()])
        ml.insert(1, tnn.Flatten())
        ml += [tnn.Linear(2, 2)]
        del ml[0]
        ml[-1] = tnn.Linear(3, 3)
        md = tnn.ModuleDict([("z", tnn.Linear(1, 1)), ("a", tnn.Identity())])
        md["m"] = ml
        md.update({"q": tnn.Linear(2, 1)})
        popped = md.pop("a")
        root = tnn.Module()
        root.md = md
        return (list(md.keys()), len(ml), type(popped).__name__, "z" in md,
                [n for n, _ in root.named_parameters()], repr(root), repr(ml[1:3]))

    assert build(nn) == build(torch.nn)
    with pytest.raises(IndexError, match="index 9 is out of range"):
        nn.ModuleList()[9]
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        nn.ModuleList().extend(3)
    with pytest.raises(NotImplementedError):
        nn.ModuleList([nn.Identity()])(ember.ones(1))


def test_parameter_list_and_dict():
    torch = _torch()

    def build(lib):
        pl = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.zeros(4)])
        pl.append(lib.ones(1))
        pd = lib.nn.ParameterDict({"b": lib.ones(2), "a": lib.nn.Parameter(lib.zeros(1))})
        pd["c"] = lib.ones(3)
        pd.setdefault("d", lib.zeros(5))
        root = lib.nn.Module()
        root.pl, root.pd = pl, pd
        return ([n for n, _ in root.named_parameters()], repr(root),
                [type(p).__name__ for p in pl], len(pd), list(pd.keys()))

    e, t = build(ember), build(torch)
    assert e[0] == t[0] and e[2:] == t[2:]
    assert e[1] == t[1].replace("torch.", "ember.")
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        nn.ParameterList()(1)


# ------------------------------------------------------------------------------ nn.utils
def _grads_model(lib, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for shape in [(3, 4), (4,), (2, 2, 2)]:
        p = lib.nn.Parameter(lib.tensor(rng.standard_normal(shape).astype(np.float32)))
        p.grad = lib.tensor(rng.standard_normal(shape).astype(np.float32) * 3)
        params.append(p)
    params.append(lib.nn.Parameter(lib.zeros(2)))          # a parameter without a grad
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), "inf", 3.5, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = _torch()
    ep, tp = _grads_model(ember), _grads_model(torch)
    e_total = nn.utils.clip_grad_norm_(iter(ep), max_norm, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type=norm_type)
    assert isinstance(e_total, ember.Tensor) and e_total.shape == ()
    assert e_total.dtype == ember.float32
    np.testing.assert_allclose(e_total.item(), t_total.item(), rtol=1e-5)
    for e, t in zip(ep, tp):
        assert (e.grad is None) == (t.grad is None)
        if e.grad is not None:
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_values_without_torch():
    p = nn.Parameter(ember.zeros(2))
    p.grad = ember.tensor([3.0, 4.0])
    total = nn.utils.clip_grad_norm_(p, 1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [3 / (5 + 1e-6), 4 / (5 + 1e-6)], rtol=1e-6)
    p.grad = ember.tensor([3.0, -4.0])
    assert nn.utils.clip_grad_norm_([p], 10.0, norm_type="inf").item() == 4.0
    np.testing.assert_array_equal(p.grad.numpy(), [3.0, -4.0])      # below max: unchanged
    assert nn.utils.clip_grad_norm_([nn.Parameter(ember.zeros(1))], 1.0).item() == 0.0
    p.grad = ember.tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch():
    torch = _torch()
    ep, tp = _grads_model(ember, 3), _grads_model(torch, 3)
    assert nn.utils.clip_grad_value_(ep, 1.5) is None
    torch.nn.utils.clip_grad_value_(tp, 1.5)
    for e, t in zip(ep[:3], tp[:3]):
        np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())
    assert max(float(np.abs(e.grad.numpy()).max()) for e in ep[:3]) == 1.5


def test_parameters_to_vector_round_trip():
    m = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(m.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(vec.detach().numpy()[:6], m.weight.detach().numpy().ravel())
    (vec * ember.arange(8.0)).sum().backward()
    np.testing.assert_array_equal(m.bias.grad.numpy(), [6.0, 7.0])
    new = ember.arange(8.0)
    nn.utils.vector_to_parameters(new, m.parameters())
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(m.bias.detach().numpy(), [6.0, 7.0])
    with pytest.raises(TypeError, match="expected ember.Tensor, but got: numpy.ndarray"):
        nn.utils.vector_to_parameters(np.zeros(8), m.parameters())
    with pytest.raises(RuntimeError, match="fewer than the parameters need"):
        nn.utils.vector_to_parameters(ember.zeros(5), m.parameters())


def test_public_paths():
    import ember.nn.functional as F
    assert ember.nn.Module is nn.modules.module.Module
    assert ember.nn.init.xavier_uniform_ is nn.init.xavier_uniform_
    assert ember.nn.utils.clip_grad_norm_ is nn.utils.clip_grad_norm_
    assert ember.nn.parameter.Parameter is ember.nn.Parameter
    for name in ("Linear", "Bilinear", "Identity", "Flatten", "Unflatten", "Embedding",
                 "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
                 "Buffer"):
        assert hasattr(nn, name), name
    for name in ("linear", "bilinear", "embedding", "one_hot"):
        assert callable(getattr(F, name)), name
