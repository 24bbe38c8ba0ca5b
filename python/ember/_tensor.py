"""``ember.Tensor``: a NumPy array plus the bookkeeping reverse-mode autograd needs.

A tensor holds
  _data           the values (np.ndarray; float32 unless told otherwise)
  _requires_grad  whether gradients flow to/through it
  grad_fn         the graph node that produced it (None for leaves)
  _output_nr      which output of grad_fn it is
  _grad           accumulated gradient (leaves, or non-leaves after retain_grad())
  _version        [n], a counter shared with its views and bumped by every in-place op, so a
                  backward that needs overwritten values raises instead of being silently wrong

The ops themselves live in ``ember._functions`` (one ``Function`` per op, grouped by family);
the bottom of this file binds them as methods, so ``x.exp()`` and ``ember.exp(x)`` are the same.
"""
from __future__ import annotations

import numbers

import numpy as np

from ember import _dtype
from ember._dtype import legacy_name, result_type

_object_new = object.__new__


class Size(tuple):
    """The type of ``tensor.shape``: a tuple that prints like ``ember.Size([2, 3])``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"ember.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class device:
    """ember computes on the CPU only; ``device('cpu')`` exists so torch code runs unchanged."""

    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if type != "cpu":
            raise RuntimeError(f"ember only supports the 'cpu' device, got {type!r}")
        self.type, self.index = "cpu", index

    def __repr__(self) -> str:
        return "device(type='cpu')"

    def __str__(self) -> str:
        return "cpu"

    def __eq__(self, other) -> bool:
        return isinstance(other, (device, str)) and str(other) == "cpu"

    def __hash__(self) -> int:
        return hash("cpu")


CPU = device("cpu")


def check_device(d) -> None:
    if d is not None:
        device(d)


def _new_tensor(data: np.ndarray, requires_grad: bool = False) -> "Tensor":
    """Wrap an ndarray (no copy) in a fresh Tensor: the fast constructor every op uses."""
    t = _object_new(Tensor)
    t._data = data
    t._requires_grad = requires_grad
    t._grad = None
    t.grad_fn = None
    t._output_nr = 0
    t._version = [0]
    t._hooks = None
    return t


class _RemovableHandle:
    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


LEAF_INPLACE_MSG = "a leaf Variable that requires grad is being used in an in-place operation."


class Tensor:
    """An n-dimensional array with autograd, PyTorch-style.

    ``Tensor(data)`` / ``Tensor(*sizes)`` is the legacy constructor (always float32, like
    ``torch.Tensor``); prefer ``ember.tensor(data)``, which infers the dtype.
    """

    __slots__ = ("_data", "_requires_grad", "_grad", "grad_fn", "_output_nr", "_version",
                 "_hooks", "__weakref__")
    __array_priority__ = 1000   # ndarray (op) Tensor defers to Tensor's reflected operator

    def __new__(cls, *args):
        # Built in __new__ (with a no-op __init__) so that subclasses such as nn.Parameter can
        # define their own __new__(cls, data, requires_grad) the way torch's do.
        if len(args) == 1 and not isinstance(args[0], numbers.Integral):
            src = args[0]
            data = np.array(src._data if isinstance(src, Tensor) else src,
                            dtype=_dtype.get_default_dtype().np)
        else:
            data = np.empty(_parse_size(args) if args else (0,),
                            dtype=_dtype.get_default_dtype().np)
        return _rebuild_tensor(cls, data, False, None)

    def __init__(self, *args, **kwargs):
        pass

    @staticmethod
    def _make_subclass(cls, data: "Tensor", require_grad: bool = False) -> "Tensor":
        """A ``cls`` instance sharing ``data``'s array (how ``nn.Parameter`` is built)."""
        t = _object_new(cls)
        t._data = data._data
        t._grad = None
        t.grad_fn = None
        t._output_nr = 0
        t._version = data._version
        t._hooks = None
        t._requires_grad = False
        t.requires_grad_(require_grad)
        return t

    # ------------------------------------------------------------------------- attributes
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape (``ember.Size``), or the length of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.from_np(self._data.dtype)

    @property
    def device(self) -> device:
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    def stride(self, dim=None):
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_wrap_dim(dim, self._data.ndim)]

    def is_contiguous(self) -> bool:
        return self._data.flags.c_contiguous

    # ------------------------------------------------------------------------- autograd state
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place (leaves only; float dtypes only); returns self."""
        requires_grad = bool(requires_grad)
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point and complex dtype can require "
                               "gradients")
        if self.grad_fn is None:
            self._requires_grad = requires_grad
        return self

    @property
    def grad(self):
        """The accumulated gradient (a Tensor), or None."""
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad "
                                f"of type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has data of a different size: "
                                   f"{list(value._data.shape)} vs {list(self._data.shape)}")
        self._grad = value

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def retains_grad(self) -> bool:
        node = self.grad_fn
        return bool(node is not None and node._retain and self._output_nr in node._retain)

    def retain_grad(self) -> None:
        """Keep this non-leaf's gradient in ``.grad`` during backward (no-op for leaves)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            _function.retain_output_grad(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned Tensor
        replaces the gradient. Returns a handle with ``.remove()``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self.grad_fn
            if node._hooks is None:
                node._hooks = {}
            hooks = node._hooks.setdefault(self._output_nr, [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) (times ``gradient``) into every leaf's ``.grad``."""
        _autograd_api.backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self) -> "Tensor":
        """The same data (shared memory and version counter), cut from the graph."""
        t = _new_tensor(self._data)
        t._version = self._version
        return t

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> "Tensor":
        """A detached alias of this tensor; assigning ``t.data = other`` swaps the storage.

        Unlike ``detach()`` it has its own version counter (as in torch): in-place updates
        through ``.data`` are invisible to autograd's saved-tensor checks.
        """
        return _new_tensor(self._data)

    @data.setter
    def data(self, value: "Tensor") -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    # ------------------------------------------------------------------------- conversion
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The underlying ndarray (shared memory, no copy)."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        if dtype is not None and arr.dtype != dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()).item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return _format_tensor(self)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and spec:
            return format(self._data.item(), spec)
        return repr(self)

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.")
        t = _object_new(type(self))
        t._data = self._data.copy()
        t._requires_grad = self._requires_grad
        t._grad = None if self._grad is None else _new_tensor(self._grad._data.copy())
        t.grad_fn = None
        t._output_nr = 0
        t._version = [0]
        t._hooks = None
        if hasattr(self, "__dict__"):
            import copy
            t.__dict__.update(copy.deepcopy(self.__dict__, memo))
        memo[id(self)] = t
        return t

    def __reduce_ex__(self, protocol):
        state = getattr(self, "__dict__", None)
        return (_rebuild_tensor, (type(self), self._data, self._requires_grad, state))

    def to(self, *args, **kwargs) -> "Tensor":
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``; returns self when
        nothing changes (like torch) unless ``copy=True``."""
        dtype = kwargs.pop("dtype", None)
        check_device(kwargs.pop("device", None))
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, device)):
                check_device(a)
            elif a is not None:
                dtype = a
        if dtype is None:
            return self.clone() if copy else self
        target = _dtype.to_np(dtype)
        if target == self._data.dtype and not copy:
            return self
        return _shape_fns.cast(self, target)

    def type(self, dtype=None):
        if dtype is None:
            return f"ember.{self.dtype._legacy}Tensor"
        return self.to(dtype)

    def float(self) -> "Tensor":
        return self.to(_dtype.float32)

    def double(self) -> "Tensor":
        return self.to(_dtype.float64)

    def half(self) -> "Tensor":
        return self.to(_dtype.float16)

    def long(self) -> "Tensor":
        return self.to(_dtype.int64)

    def int(self) -> "Tensor":
        return self.to(_dtype.int32)

    def bool(self) -> "Tensor":
        return self.to(_dtype.bool_)

    def cpu(self) -> "Tensor":
        return self

    def cuda(self, *args, **kwargs):
        raise RuntimeError("ember only supports the 'cpu' device")

    # ------------------------------------------------------------------------- in-place ops
    def _check_inplace(self) -> bool:
        """True when an in-place op must be recorded in the graph (and refuse leaf tensors)."""
        if self._requires_grad and _grad_state.enabled:
            if self.grad_fn is None:
                raise RuntimeError(LEAF_INPLACE_MSG)
            return True
        return False

    def _inplace_graph(self, fn, *args) -> "Tensor":
        """Record ``self = fn(self, *args)`` in the graph while keeping self's storage.

        ``fn`` is a Function class or any differentiable callable. The op runs out of place on
        a snapshot of self (a copy when ``fn`` may save its inputs, so the overwrite cannot
        corrupt them); its result is written into self's array and self becomes its output.
        """
        if self._requires_grad and self.grad_fn is None:
            raise RuntimeError(LEAF_INPLACE_MSG)
        copy = getattr(fn, "_saves_inputs", True)
        old = _new_tensor(self._data.copy() if copy else self._data, self._requires_grad)
        old.grad_fn, old._output_nr = self.grad_fn, self._output_nr
        result = (fn.apply if isinstance(fn, type) else fn)(old, *args)
        self._write_result(result)
        self.grad_fn, self._output_nr = result.grad_fn, result._output_nr
        self._requires_grad = result._requires_grad
        return self

    def _write_result(self, result: "Tensor") -> None:
        """Copy an op's result into self's array (same shape, no dtype category upgrade)."""
        _check_cast(result._data.dtype, self._data.dtype)
        try:
            np.copyto(self._data, result._data, casting="unsafe")
        except ValueError:
            raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the "
                               f"broadcast shape {list(result._data.shape)}") from None
        self._version[0] += 1

    def _inplace_unary(self, fn, *args, **kwargs) -> "Tensor":
        """``self = fn(self, ...)`` for ops without a hand-written in-place kernel (exp_, relu_)."""
        if self._check_inplace() or any(isinstance(a, Tensor) and a._requires_grad
                                        for a in args):
            return self._inplace_graph(lambda t, *a: fn(t, *a, **kwargs), *args)
        prev, _grad_state.enabled = _grad_state.enabled, False
        try:
            result = fn(self, *args, **kwargs)
        finally:
            _grad_state.enabled = prev
        self._write_result(result)
        return self

    def _inplace_binary(self, fn, ufunc, other) -> "Tensor":
        """``self op= other``: straight into self's array when no graph is recorded."""
        if isinstance(other, Tensor):
            if other._requires_grad and _grad_state.enabled:
                return self._inplace_graph(fn, other)
            o = other._data
        else:
            o = other
        if self._check_inplace():
            return self._inplace_graph(fn, other)
        a = self._data
        rt = result_type(a, o)
        if ufunc is np.true_divide and rt.kind != "f":
            rt = _dtype.get_default_dtype().np
        _check_cast(rt, a.dtype)
        try:
            ufunc(a, o, out=a, casting="unsafe")
        except ValueError as e:
            raise _arith.inplace_shape_error(a, o, e) from None
        self._version[0] += 1
        return self

    def add_(self, other, *, alpha=1):
        if alpha != 1:
            other = other * alpha
        return self._inplace_binary(_arith.Add, np.add, other)

    def sub_(self, other, *, alpha=1):
        if alpha != 1:
            other = other * alpha
        return self._inplace_binary(_arith.Sub, np.subtract, other)

    def mul_(self, other):
        return self._inplace_binary(_arith.Mul, np.multiply, other)

    def div_(self, other):
        return self._inplace_binary(_arith.Div, np.true_divide, other)

    def pow_(self, exponent):
        return self._inplace_binary(_arith.Pow, np.power, exponent)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_
    __ipow__ = pow_

    def zero_(self) -> "Tensor":
        return self.fill_(0)

    def fill_(self, value) -> "Tensor":
        """Set every element to ``value`` (a number or a one-element tensor)."""
        if isinstance(value, Tensor):
            value = value.item()
        if self._check_inplace():
            return self._inplace_graph(_index_fns.MaskedFill, np.True_, value)
        self._data.fill(value)
        self._version[0] += 1
        return self

    def copy_(self, src, non_blocking=False) -> "Tensor":
        """Copy ``src``'s values (broadcast, cast to self's dtype) into self."""
        if isinstance(src, Tensor) and src._requires_grad and _grad_state.enabled \
                or self._check_inplace():
            return self._inplace_graph(_shape_fns.CopyInto, src)
        np.copyto(self._data, src._data if isinstance(src, Tensor) else src, casting="unsafe")
        self._version[0] += 1
        return self

    def addcmul_(self, tensor1, tensor2, *, value=1) -> "Tensor":
        """self += value * tensor1 * tensor2 (used by optimisers such as Adam)."""
        return self.add_(tensor1 * tensor2, alpha=value)

    def addcdiv_(self, tensor1, tensor2, *, value=1) -> "Tensor":
        """self += value * tensor1 / tensor2."""
        return self.add_(tensor1 / tensor2, alpha=value)

    def addcmul(self, tensor1, tensor2, *, value=1) -> "Tensor":
        return self + (tensor1 * tensor2) * value

    def addcdiv(self, tensor1, tensor2, *, value=1) -> "Tensor":
        return self + (tensor1 / tensor2) * value

    def lerp_(self, end, weight) -> "Tensor":
        """self += weight * (end - self)."""
        return self.add_((end - self) * weight)

    def lerp(self, end, weight) -> "Tensor":
        return self + (end - self) * weight

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator=None) -> "Tensor":
        """Fill with samples from U(a, b) (ember's global generator)."""
        self._check_inplace_init()
        rng = generator if generator is not None else _random.get_rng()
        self._data[...] = rng.uniform(a, b, self._data.shape)
        self._version[0] += 1
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None) -> "Tensor":
        """Fill with samples from N(mean, std**2) (ember's global generator)."""
        self._check_inplace_init()
        rng = generator if generator is not None else _random.get_rng()
        self._data[...] = rng.normal(mean, std, self._data.shape)
        self._version[0] += 1
        return self

    def _check_inplace_init(self) -> None:
        if self._requires_grad and _grad_state.enabled:
            raise RuntimeError(LEAF_INPLACE_MSG if self.grad_fn is None else
                               "random in-place initialisation of a tensor in the graph")

    # ------------------------------------------------------------------------- indexing
    def __getitem__(self, key):
        return _index_fns.getitem(self, key)

    def __setitem__(self, key, value) -> None:
        _index_fns.setitem(self, key, value)


def _check_cast(result: np.dtype, out: np.dtype) -> None:
    """In-place ops may not move to a higher category (float result into an int tensor)."""
    if _dtype._CATEGORY[result.kind] > _dtype._CATEGORY[out.kind]:
        raise RuntimeError(f"result type {legacy_name(result)} can't be cast to the desired "
                           f"output type {legacy_name(out)}")


def _rebuild_tensor(cls, data, requires_grad, state):
    t = _object_new(cls)
    t._data = data
    t._grad = None
    t.grad_fn = None
    t._output_nr = 0
    t._version = [0]
    t._hooks = None
    t._requires_grad = requires_grad
    if state:
        t.__dict__.update(state)
    return t


def _wrap_dim(dim, ndim: int) -> int:
    """A possibly negative dim as an index in [0, ndim); 0-d tensors accept 0 and -1."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim + n if dim < 0 else dim


def _parse_size(args) -> tuple:
    """Sizes given as varargs ``(2, 3)`` or one sequence ``((2, 3),)``, validated."""
    if len(args) == 1 and isinstance(args[0], (tuple, list, Size)):
        args = tuple(args[0])
    sizes = []
    for s in args:
        if isinstance(s, Tensor):
            s = s.item()
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise TypeError(f"size must be a tuple of ints, but got an element of type "
                            f"{type(s).__name__}")
        sizes.append(int(s))
    if any(s < 0 for s in sizes):
        neg = next(s for s in sizes if s < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {neg}: {sizes}")
    return tuple(sizes)


# Imported last: these modules import Tensor from here.
from ember._format import format_tensor as _format_tensor  # noqa: E402
from ember.autograd.grad_mode import _state as _grad_state  # noqa: E402
from ember.autograd import function as _function  # noqa: E402
from ember.autograd import api as _autograd_api  # noqa: E402
from ember import _random  # noqa: E402
from ember._functions import arithmetic as _arith  # noqa: E402
from ember._functions import shape as _shape_fns  # noqa: E402
from ember._functions import indexing as _index_fns  # noqa: E402
from ember._functions import methods as _methods  # noqa: E402

_methods.bind(Tensor)
