"""Shape ops: they move or copy elements without arithmetic, so each backward just moves the
gradient back (reshape it, permute it back, sum the copies of repeat, split what cat joined).

Results are NumPy views where NumPy can make one (reshape of contiguous data, permute,
transpose, expand, squeeze), sharing memory and the version counter with the input like torch.
``view`` is ``reshape``: where torch's ``view`` would refuse a non-viewable layout, ember copies.
"""
from __future__ import annotations

import math

import numpy as np

from ember._dtype import result_type
from ember._tensor import Tensor
from ember.autograd.function import ArrayFunction
from ember._functions._util import wrap_dim


class View(ArrayFunction):
    """Reshape (also squeeze/unsqueeze/flatten): backward reshapes the gradient back."""

    _is_view = True
    _saves_inputs = False

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


class Permute(ArrayFunction):
    _is_view = True
    _saves_inputs = False

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(np.argsort(ctx.dims))


class Expand(ArrayFunction):
    """Broadcast to a larger shape (a read-only view); the engine sums the gradient back."""

    _is_view = True
    _saves_inputs = False

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Repeat(ArrayFunction):
    """Tile ``x`` ``reps`` times per dim; backward sums the copies of each element."""

    _saves_inputs = False

    @staticmethod
    def forward(ctx, x, reps):
        shape = (1,) * (len(reps) - x.ndim) + x.shape
        ctx.shape, ctx.reps, ctx.in_shape = shape, reps, x.shape
        return np.tile(x.reshape(shape), reps)

    @staticmethod
    def backward(ctx, grad):
        # view the result as (r0, s0, r1, s1, ...) and sum over the r axes
        split = []
        for r, s in zip(ctx.reps, ctx.shape):
            split += [r, s]
        g = grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return g.reshape(ctx.in_shape)


class Cat(ArrayFunction):
    _saves_inputs = False

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.bounds = np.cumsum([x.shape[dim] for x in xs])[:-1]
        return np.concatenate(xs, axis=dim, dtype=result_type(*xs))

    @staticmethod
    def backward(ctx, grad):
        parts = np.split(grad, ctx.bounds, axis=ctx.dim)
        needs = ctx.needs_input_grad[1:]
        return (None,) + tuple(p if n else None for p, n in zip(parts, needs))


class Stack(ArrayFunction):
    _saves_inputs = False

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        return np.stack(xs, axis=dim, dtype=result_type(*xs))

    @staticmethod
    def backward(ctx, grad):
        needs = ctx.needs_input_grad[1:]
        lead = (slice(None),) * ctx.dim
        return (None,) + tuple(grad[lead + (i,)] if n else None for i, n in enumerate(needs))


class Split(ArrayFunction):
    """Several outputs, slices of ``x`` along ``dim``; backward concatenates their gradients
    (outputs that got none contribute zeros)."""

    _is_view = True
    _saves_inputs = False

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        bounds = np.cumsum(sizes)[:-1]
        return tuple(np.split(x, bounds, axis=dim))

    @staticmethod
    def backward(ctx, *grads):
        return np.concatenate(grads, axis=ctx.dim)


class Flip(ArrayFunction):
    _is_view = True
    _saves_inputs = False

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return np.flip(grad, ctx.dims)


class Copy(ArrayFunction):
    """A fresh C-contiguous copy (clone, contiguous); the gradient passes unchanged."""

    _saves_inputs = False

    @staticmethod
    def forward(ctx, x):
        return np.array(x, copy=True, order="C")

    @staticmethod
    def backward(ctx, grad):
        return grad


class Cast(ArrayFunction):
    """Change dtype; the engine casts the gradient back to the input's dtype."""

    _saves_inputs = False

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad


class CopyInto(ArrayFunction):
    """``dst.copy_(src)`` as an op: the result is src broadcast to dst's shape and dtype.
    dst's old values are gone (gradient 0); src gets the gradient summed to its shape."""

    _saves_inputs = False

    @staticmethod
    def forward(ctx, dst, src):
        return np.broadcast_to(np.asarray(src, dtype=dst.dtype), dst.shape).copy()

    @staticmethod
    def backward(ctx, grad):
        n_dst, n_src = ctx.needs_input_grad
        return (np.zeros_like(grad) if n_dst else None), (grad if n_src else None)


# ------------------------------------------------------------------------- public functions
def reshape(input, *shape):
    """The same elements in a new shape; one entry may be -1 (inferred)."""
    shape = _parse_shape_arg(shape)
    n = input._data.size
    known = [s for s in shape if s != -1]
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"invalid shape dimension {min(shape)}")
    prod = math.prod(known)
    if (-1 not in shape and prod != n) or (-1 in shape and (prod == 0 or n % prod)):
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {n}")
    if tuple(shape) == input._data.shape:
        return View.apply(input, input._data.shape)
    return View.apply(input, shape)


view = reshape


def _parse_shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def view_as(input, other):
    return reshape(input, other._data.shape)


def reshape_as(input, other):
    return reshape(input, other._data.shape)


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    """Merge dims start_dim..end_dim into one (a 0-d tensor becomes 1-d)."""
    shape = input._data.shape
    if not shape:                   # like torch, a 0-d tensor has the dims -1 and 0
        wrap_dim(start_dim, 1)
        wrap_dim(end_dim, 1)
        return View.apply(input, (1,))
    s, e = wrap_dim(start_dim, len(shape)), wrap_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    return View.apply(input, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


def unflatten(input, dim: int, sizes):
    shape = input._data.shape
    d = wrap_dim(dim, len(shape))
    sizes = tuple(sizes)
    if -1 in sizes:
        known = math.prod(s for s in sizes if s != -1)
        sizes = tuple(shape[d] // known if s == -1 else s for s in sizes)
    if math.prod(sizes) != shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shape[d]}) in the input tensor")
    return View.apply(input, shape[:d] + sizes + shape[d + 1:])


def unsqueeze(input, dim: int):
    """Insert a size-1 dim at ``dim`` (in [-ndim-1, ndim])."""
    ndim = input._data.ndim
    d = wrap_dim(dim, ndim + 1)
    shape = input._data.shape
    return View.apply(input, shape[:d] + (1,) + shape[d:])


def squeeze(input, dim=None):
    """Remove size-1 dims (all, or those in ``dim`` — others are left alone, like torch)."""
    shape = input._data.shape
    if dim is None:
        dims = {i for i, s in enumerate(shape) if s == 1}
    else:
        dims = {wrap_dim(d, len(shape)) for d in ((dim,) if isinstance(dim, int) else dim)}
        dims = {d for d in dims if len(shape) and shape[d] == 1}
    return View.apply(input, tuple(s for i, s in enumerate(shape) if i not in dims))


def permute(input, *dims):
    """Reorder the dims: result dim i is input dim ``dims[i]``."""
    dims = _parse_shape_arg(dims)
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {ndim} is not equal to len(dims) = {len(dims)}")
    wrapped = tuple(wrap_dim(d, ndim) for d in dims)
    if len(set(wrapped)) != ndim:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, wrapped)


def transpose(input, dim0: int, dim1: int):
    """Swap two dims."""
    ndim = input._data.ndim
    if ndim == 0:
        return View.apply(input, ())
    perm = list(range(ndim))
    a, b = wrap_dim(dim0, ndim), wrap_dim(dim1, ndim)
    perm[a], perm[b] = perm[b], perm[a]
    return Permute.apply(input, tuple(perm))


swapaxes = swapdims = transpose


def t(input):
    """Transpose a <= 2-D tensor."""
    ndim = input._data.ndim
    if ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {ndim}D")
    return transpose(input, 0, 1) if ndim == 2 else View.apply(input, input._data.shape)


def T(input):
    """All dims reversed (``x.T``)."""
    return Permute.apply(input, tuple(range(input._data.ndim))[::-1])


def mT(input):
    """The last two dims swapped (batched matrix transpose)."""
    if input._data.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {input._data.ndim}-D tensor.")
    return transpose(input, -2, -1)


def expand(input, *sizes):
    """Broadcast size-1 dims (and new leading dims) to ``sizes``; -1 keeps a size."""
    sizes = _parse_shape_arg(sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(shape)}}}, size={list(sizes)}): the "
                           f"number of sizes provided ({len(sizes)}) must be greater or equal "
                           f"to the number of dimensions in the tensor ({len(shape)})")
    lead = len(sizes) - len(shape)
    target = list(sizes)
    for i, s in enumerate(shape):
        want = sizes[lead + i]
        if want == -1:
            target[lead + i] = s
        elif s != 1 and s != want:
            raise RuntimeError(
                f"The expanded size of the tensor ({want}) must match the existing size ({s}) at "
                f"non-singleton dimension {lead + i}.  Target sizes: {list(sizes)}.  Tensor "
                f"sizes: {list(shape)}")
    if any(s < 0 for s in target):
        raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, "
                           f"non-existing dimension {target.index(-1)}")
    return Expand.apply(input, tuple(target))


def expand_as(input, other):
    return expand(input, other._data.shape)


def broadcast_to(input, shape):
    return expand(input, shape)


def repeat(input, *sizes):
    """Tile the tensor: dim i is repeated ``sizes[i]`` times (len(sizes) >= ndim)."""
    sizes = _parse_shape_arg(sizes)
    if len(sizes) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    return Repeat.apply(input, sizes)


def _check_tensor_list(tensors, name: str) -> list:
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{name}(): expected a non-empty list of Tensors")
    for i, t_ in enumerate(tensors):
        if not isinstance(t_, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t_).__name__}")
    return tensors


def cat(tensors, dim: int = 0):
    """Join tensors along an existing dim; all other dims must match."""
    tensors = _check_tensor_list(tensors, "torch.cat")
    ref = next((x for x in tensors if x._data.shape != (0,)), tensors[0])  # legacy: skip 1-d empties
    if ref._data.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, ref._data.ndim)
    kept = [x for x in tensors if x._data.shape != (0,)] or tensors[:1]
    for i, x in enumerate(tensors):
        if x._data.shape == (0,) and ref._data.shape != (0,):
            continue
        if x._data.ndim != ref._data.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got "
                               f"{ref._data.ndim} and {x._data.ndim}")
        for k, (a, b) in enumerate(zip(ref._data.shape, x._data.shape)):
            if k != d and a != b:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {a} but got size {b} for tensor number "
                                   f"{i} in the list.")
    return Cat.apply(d, *kept)


concat = concatenate = cat


def stack(tensors, dim: int = 0):
    """Join equal-shaped tensors along a new dim."""
    tensors = _check_tensor_list(tensors, "stack")
    shape = tensors[0]._data.shape
    for i, x in enumerate(tensors):
        if x._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shape)} at entry 0 and {list(x._data.shape)} at entry {i}")
    return Stack.apply(wrap_dim(dim, len(shape) + 1), *tensors)


def hstack(tensors):
    tensors = list(tensors)
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    return cat([x if x._data.ndim > 1 else unsqueeze(x, 0) for x in tensors], 0)


def split(tensor, split_size_or_sections, dim: int = 0):
    """Split into chunks of ``split_size`` (the last may be smaller) or of the given sizes."""
    d = wrap_dim(dim, tensor._data.ndim)
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            if not (step == 0 and n == 0):
                raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                                   f"dimension size of {n}")
            return (tensor,)
        sizes = [step] * (n // step) + ([n % step] if n % step else [])
        if not sizes:
            sizes = [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
    if len(sizes) == 1:
        return (View.apply(tensor, tensor._data.shape),)
    return Split.apply(tensor, sizes, d)


def tensor_split_chunk(tensor, chunks: int, dim: int = 0):
    """torch.chunk: ``chunks`` pieces of ceil(size/chunks) (fewer if the size runs out)."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = wrap_dim(dim, tensor._data.ndim)
    n = tensor._data.shape[d]
    step = max(-(-n // chunks), 1) if n else 0
    if n == 0:
        return split(tensor, [0] * chunks, d) if chunks > 1 else (tensor,)
    return split(tensor, step, d)


chunk = tensor_split_chunk


def unbind(input, dim: int = 0):
    """The slices along ``dim`` as a tuple of tensors (dim removed)."""
    d = wrap_dim(dim, input._data.ndim)
    lead = (slice(None),) * d
    return tuple(input[lead + (i,)] for i in range(input._data.shape[d]))


def flip(input, dims):
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return Flip.apply(input, tuple(wrap_dim(d, input._data.ndim) for d in dims))


def narrow(input, dim: int, start: int, length: int):
    d = wrap_dim(dim, input._data.ndim)
    if start < 0:
        start += input._data.shape[d]
    if start + length > input._data.shape[d] or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({input._data.shape[d]}).")
    return input[(slice(None),) * d + (slice(start, start + length),)]


def select(input, dim: int, index: int):
    d = wrap_dim(dim, input._data.ndim)
    return input[(slice(None),) * d + (index,)]


def clone(input, *, memory_format=None):
    """A copy with its own memory; gradients flow back to ``input``."""
    return Copy.apply(input)


def contiguous(input, memory_format=None):
    """``input`` itself if C-contiguous, else a contiguous copy."""
    return input if input._data.flags.c_contiguous else Copy.apply(input)


def cast(input, np_dtype):
    return Cast.apply(input, np_dtype)


def movedim(input, source, destination):
    ndim = input._data.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    src = [wrap_dim(s, ndim) for s in src]
    dst = [wrap_dim(s, ndim) for s in dst]
    order = [i for i in range(ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return Permute.apply(input, tuple(order))


moveaxis = movedim
