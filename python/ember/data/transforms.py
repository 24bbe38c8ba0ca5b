"""Image transforms with torchvision's names and arguments, in NumPy.

Images are ember Tensors or NumPy arrays shaped (..., H, W): (C, H, W) for one image,
(N, C, H, W) for a batch; each transform returns the same kind it was given. As in
torchvision, one call draws one set of random parameters and applies it to everything it is
given (a whole batch gets the same flip); for a different draw per image, give the transform
to a Dataset (``transform=``) so it runs once per sample. Randomness comes from ember's global
generator (``ember.manual_seed`` makes it reproducible).

    Compose, Lambda, RandomApply              chaining
    ToTensor                                  (H, W[, C]) array -> (C, H, W) tensor; uint8 /255
    Normalize(mean, std)                      (x - mean[c]) / std[c] per channel
    RandomHorizontalFlip(p), RandomVerticalFlip(p)
    RandomRotation(degrees, interpolation)    about the centre, nearest or bilinear, fill
    RandomCrop(size, padding), CenterCrop(size)
    ColorJitter(brightness, contrast, saturation, hue)
    GaussianNoise(mean, sigma, clip)          torchvision.transforms.v2's additive noise
"""
from __future__ import annotations

import enum
import math
import numbers

import numpy as np

from ember import _dtype, _random
from ember._tensor import Tensor, _new_tensor

__all__ = ["Compose", "Lambda", "RandomApply", "ToTensor", "Normalize", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomRotation", "RandomCrop", "CenterCrop", "ColorJitter",
           "GaussianNoise", "InterpolationMode"]


class InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"


def _unwrap(img, name: str):
    """(array, rewrap) for a Tensor or ndarray image of shape (..., H, W)."""
    if isinstance(img, Tensor):
        arr, wrap = img._data, _new_tensor
    elif isinstance(img, np.ndarray):
        arr, wrap = img, (lambda a: a)
    else:
        raise TypeError(f"{name} expects an ember Tensor or a NumPy array, got "
                        f"{type(img).__name__}")
    if arr.ndim < 2:
        raise ValueError(f"{name} expects an image of shape (..., H, W), got shape {arr.shape}")
    return arr, wrap


def _rng():
    return _random.get_rng()


def _max_value(dtype: np.dtype) -> float:
    return 1.0 if dtype.kind == "f" else float(np.iinfo(dtype).max)


def _pair(size, name: str) -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    size = tuple(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError(f"{name} should be an int or a sequence of (h, w), got {size}")
    return int(size[0]), int(size[1])


class Compose:
    """Apply ``transforms`` one after the other."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class Lambda:
    """Wrap a function as a transform."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class RandomApply:
    """Apply the list of ``transforms`` with probability ``p`` (all of them or none)."""

    def __init__(self, transforms, p: float = 0.5):
        self.transforms = list(transforms)
        self.p = p

    def __call__(self, img):
        if self.p < _rng().random():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p}, transforms={self.transforms})"


class ToTensor:
    """An (H, W) or (H, W, C) array (or anything ``np.asarray`` turns into one, e.g. a PIL
    image) becomes a (C, H, W) Tensor; uint8 values are scaled to [0, 1] in the default float
    dtype, other dtypes are kept unscaled (torchvision's rule)."""

    def __call__(self, pic):
        if isinstance(pic, Tensor):
            raise TypeError("pic should be PIL Image or ndarray. Got an ember Tensor (it is "
                            "already a tensor: leave ToTensor out)")
        if not isinstance(pic, np.ndarray):
            if not hasattr(pic, "__array__") and not hasattr(pic, "__array_interface__"):
                raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
            pic = np.asarray(pic)
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        if pic.ndim == 2:
            pic = pic[:, :, None]
        chw = np.ascontiguousarray(pic.transpose(2, 0, 1))
        if chw.dtype == np.uint8:
            dt = _dtype.get_default_dtype().np
            return _new_tensor((chw.astype(dt) / dt.type(255)).astype(dt))
        _dtype.from_np(chw.dtype)
        return _new_tensor(chw)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Normalize:
    """``out[c] = (in[c] - mean[c]) / std[c]`` over the channel dimension (-3) of a float
    image; ``mean``/``std`` are sequences with one value per channel (or one value)."""

    def __init__(self, mean, std, inplace: bool = False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor):
        arr, wrap = _unwrap(tensor, "Normalize")
        if arr.dtype.kind != "f":
            raise TypeError(f"Input tensor should be a float tensor. Got {arr.dtype}.")
        if arr.ndim < 3:
            raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got "
                             f"tensor.size() = {arr.shape}")
        mean = np.asarray(self.mean, dtype=arr.dtype).reshape(-1)
        std = np.asarray(self.std, dtype=arr.dtype).reshape(-1)
        if np.any(std == 0):
            raise ValueError(f"std evaluated to zero after conversion to {arr.dtype}, leading "
                             "to division by zero.")
        channels = arr.shape[-3]
        for name, v in (("mean", mean), ("std", std)):
            if v.size not in (1, channels):
                raise ValueError(f"Normalize: {name} has {v.size} values but the image has "
                                 f"{channels} channels")
        out = (arr - mean[:, None, None]) / std[:, None, None]
        if self.inplace:
            arr[...] = out
            return tensor
        return wrap(out.astype(arr.dtype, copy=False))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class RandomHorizontalFlip:
    """Mirror left-right (the last dimension) with probability ``p``."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, img):
        arr, wrap = _unwrap(img, type(self).__name__)
        if _rng().random() < self.p:
            return wrap(np.ascontiguousarray(arr[..., ::-1]))
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom (dimension -2) with probability ``p``."""

    def __call__(self, img):
        arr, wrap = _unwrap(img, type(self).__name__)
        if _rng().random() < self.p:
            return wrap(np.ascontiguousarray(arr[..., ::-1, :]))
        return img


def _fill_array(fill, arr: np.ndarray):
    """``fill`` broadcastable against (..., C, H, W) sampled values."""
    f = np.asarray(0 if fill is None else fill, dtype=np.float64).reshape(-1)
    if f.size == 1 or arr.ndim < 3:
        return f[0]
    if f.size != arr.shape[-3]:
        raise ValueError(f"fill has {f.size} values but the image has {arr.shape[-3]} channels")
    return f[:, None, None]


def rotate(img, angle: float, interpolation=InterpolationMode.NEAREST, expand: bool = False,
           center=None, fill=0):
    """Rotate by ``angle`` degrees counter-clockwise (as displayed, row 0 at the top).

    Each output pixel is mapped back into the input (inverse rotation about the centre) and
    sampled there: nearest pixel, or bilinear between the four around it; points outside the
    input take ``fill``. ``center`` is (x, y) with the origin at the top-left corner of the
    image (torchvision's convention); the default is the image centre. ``expand`` enlarges
    the output to hold the whole rotated image. Rotating a square image by a multiple of 90
    degrees moves pixels exactly (``np.rot90``).
    """
    arr, wrap = _unwrap(img, "rotate")
    mode = InterpolationMode(interpolation.value if isinstance(interpolation, InterpolationMode)
                             else interpolation)
    H, W = arr.shape[-2:]
    theta = math.radians(angle)
    cos, sin = math.cos(theta), math.sin(theta)
    # pixel centres of the input sit at integer (x, y); the rotation centre in those units
    cx, cy = ((W - 1) / 2, (H - 1) / 2) if center is None else \
        (float(center[0]) - 0.5, float(center[1]) - 0.5)
    if expand:
        # bounding box of the rotated image rectangle (pixel edges at -0.5 and W - 0.5)
        xs = np.array([-0.5, W - 0.5, W - 0.5, -0.5]) - cx
        ys = np.array([-0.5, -0.5, H - 0.5, H - 0.5]) - cy
        rx, ry = cos * xs + sin * ys, -sin * xs + cos * ys
        Wo = int(math.ceil(round(rx.max() - rx.min(), 4)))
        Ho = int(math.ceil(round(ry.max() - ry.min(), 4)))
        ocx, ocy = (Wo - 1) / 2, (Ho - 1) / 2
    else:
        Ho, Wo, ocx, ocy = H, W, cx, cy
    yy, xx = np.meshgrid(np.arange(Ho) - ocy, np.arange(Wo) - ocx, indexing="ij")
    # inverse map: a counter-clockwise turn on screen (y pointing down)
    src_x = cos * xx - sin * yy + cx
    src_y = sin * xx + cos * yy + cy
    # snap coordinates within rounding error of a pixel centre (exact quarter turns)
    for a in (src_x, src_y):
        r = np.round(a)
        near = np.abs(a - r) < 1e-6
        a[near] = r[near]
    fill_v = _fill_array(fill, arr)
    work = arr.astype(np.float64) if arr.dtype.kind != "f" else arr
    if mode is InterpolationMode.NEAREST:
        ix, iy = np.floor(src_x + 0.5).astype(np.int64), np.floor(src_y + 0.5).astype(np.int64)
        inside = (ix >= 0) & (ix < W) & (iy >= 0) & (iy < H)
        out = work[..., np.clip(iy, 0, H - 1), np.clip(ix, 0, W - 1)]
        out = np.where(inside, out, fill_v)
    else:
        x0, y0 = np.floor(src_x).astype(np.int64), np.floor(src_y).astype(np.int64)
        wx, wy = src_x - x0, src_y - y0
        out = 0.0
        for dy, wgt_y in ((0, 1 - wy), (1, wy)):
            for dx, wgt_x in ((0, 1 - wx), (1, wx)):
                px, py = x0 + dx, y0 + dy
                inside = (px >= 0) & (px < W) & (py >= 0) & (py < H)
                v = work[..., np.clip(py, 0, H - 1), np.clip(px, 0, W - 1)]
                out = out + np.where(inside, v, fill_v) * (wgt_x * wgt_y)
    if arr.dtype.kind != "f":
        out = np.clip(np.round(out), *_int_range(arr.dtype))
    return wrap(np.ascontiguousarray(out).astype(arr.dtype, copy=False))


def _int_range(dtype):
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    return (info.min, info.max) if info is not None else (0, 1)


class RandomRotation:
    """Rotate by an angle drawn uniformly from ``degrees`` (a number d means (-d, d));
    see ``rotate`` for ``interpolation``, ``expand``, ``center`` and ``fill``."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand: bool = False,
                 center=None, fill=0):
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError("If degrees is a single number, it must be positive.")
            degrees = (-float(degrees), float(degrees))
        else:
            degrees = tuple(float(d) for d in degrees)
            if len(degrees) != 2:
                raise ValueError("If degrees is a sequence, it must be of len 2.")
        if isinstance(interpolation, str):
            interpolation = InterpolationMode(interpolation)
        self.degrees, self.interpolation = degrees, interpolation
        self.expand, self.center, self.fill = expand, center, fill

    def __call__(self, img):
        angle = float(_rng().uniform(self.degrees[0], self.degrees[1]))
        return rotate(img, angle, self.interpolation, self.expand, self.center, self.fill)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(degrees={list(self.degrees)}, interpolation="
                f"{self.interpolation.value}, expand={self.expand}, fill={self.fill})")


def _pad(arr: np.ndarray, left: int, top: int, right: int, bottom: int, fill, mode: str):
    widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
    if mode == "constant":
        f = np.asarray(fill, dtype=np.float64).reshape(-1)
        if f.size == 1:
            return np.pad(arr, widths, mode="constant", constant_values=f[0])
        out = np.stack([np.pad(arr[..., c, :, :], widths[:-3] + widths[-2:], mode="constant",
                               constant_values=f[c]) for c in range(arr.shape[-3])], axis=-3)
        return out
    if mode not in ("edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    return np.pad(arr, widths, mode=mode)


def _padding_ltrb(padding) -> tuple[int, int, int, int]:
    if isinstance(padding, numbers.Number):
        p = int(padding)
        return p, p, p, p
    padding = [int(p) for p in padding]
    if len(padding) == 1:
        return (padding[0],) * 4
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return tuple(padding)
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                     f"{len(padding)} element tuple")


class RandomCrop:
    """Crop a random ``size`` = (h, w) window, after optional ``padding`` (int: all sides;
    (lr, tb); or (left, top, right, bottom)) with ``fill`` and ``padding_mode`` ('constant',
    'edge', 'reflect', 'symmetric'). ``pad_if_needed`` pads an image smaller than ``size``."""

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0,
                 padding_mode: str = "constant"):
        self.size = _pair(size, "size")
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or "
                             "symmetric")

    def __call__(self, img):
        arr, wrap = _unwrap(img, "RandomCrop")
        if self.padding is not None:
            arr = _pad(arr, *_padding_ltrb(self.padding), self.fill, self.padding_mode)
        th, tw = self.size
        h, w = arr.shape[-2:]
        if self.pad_if_needed and w < tw:
            arr = _pad(arr, tw - w, 0, tw - w, 0, self.fill, self.padding_mode)
        h, w = arr.shape[-2:]
        if self.pad_if_needed and h < th:
            arr = _pad(arr, 0, th - h, 0, th - h, self.fill, self.padding_mode)
        h, w = arr.shape[-2:]
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(h, w)}")
        i = int(_rng().integers(0, h - th + 1))
        j = int(_rng().integers(0, w - tw + 1))
        return wrap(np.ascontiguousarray(arr[..., i:i + th, j:j + tw]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class CenterCrop:
    """Crop the central ``size`` window (zero-padding an image that is smaller)."""

    def __init__(self, size):
        self.size = _pair(size, "size")

    def __call__(self, img):
        arr, wrap = _unwrap(img, "CenterCrop")
        th, tw = self.size
        h, w = arr.shape[-2:]
        if th > h or tw > w:
            arr = _pad(arr, max(tw - w, 0) // 2, max(th - h, 0) // 2,
                       (max(tw - w, 0) + 1) // 2, (max(th - h, 0) + 1) // 2, 0, "constant")
            h, w = arr.shape[-2:]
        top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
        return wrap(np.ascontiguousarray(arr[..., top:top + th, left:left + tw]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


def _blend(a: np.ndarray, b, ratio: float, dtype: np.dtype) -> np.ndarray:
    out = np.clip(ratio * a + (1.0 - ratio) * b, 0, _max_value(dtype))
    return out.astype(dtype)


def _grayscale(arr: np.ndarray) -> np.ndarray:
    """ITU-R 601-2 luma of (..., 3, H, W) RGB, keeping the channel dimension (size 1)."""
    r, g, b = arr[..., 0:1, :, :], arr[..., 1:2, :, :], arr[..., 2:3, :, :]
    gray = 0.2989 * r + 0.587 * g + 0.114 * b
    return gray.astype(arr.dtype)


def _rgb_to_hsv(rgb: np.ndarray):
    r, g, b = rgb[..., 0, :, :], rgb[..., 1, :, :], rgb[..., 2, :, :]
    maxc, minc = rgb.max(axis=-3), rgb.min(axis=-3)
    delta = maxc - minc
    safe = np.where(delta == 0, 1.0, delta)
    s = np.where(maxc == 0, 0.0, delta / np.where(maxc == 0, 1.0, maxc))
    h = np.where(maxc == r, (g - b) / safe,
                 np.where(maxc == g, 2.0 + (b - r) / safe, 4.0 + (r - g) / safe))
    h = np.where(delta == 0, 0.0, (h / 6.0) % 1.0)
    return h, s, maxc


def _hsv_to_rgb(h, s, v) -> np.ndarray:
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int64) % 6
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    r = np.choose(i, [v, q, p, p, t, v])
    g = np.choose(i, [t, v, v, q, p, p])
    b = np.choose(i, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-3)


def _channels(arr: np.ndarray, what: str) -> int:
    c = arr.shape[-3] if arr.ndim >= 3 else 1
    if c not in (1, 3):
        raise TypeError(f"{what}: input image tensor permitted channel values are [1, 3], but "
                        f"found {c}")
    return c


def adjust_brightness(arr: np.ndarray, factor: float) -> np.ndarray:
    """Scale intensities by ``factor`` (0 gives black), clipped to the valid range."""
    return _blend(arr, 0.0, factor, arr.dtype)


def adjust_contrast(arr: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the mean grey level of each image (0 gives a flat grey image)."""
    c = _channels(arr, "adjust_contrast")
    gray = _grayscale(arr) if c == 3 else arr
    mean = gray.astype(np.float64).mean(axis=(-3, -2, -1), keepdims=True)
    return _blend(arr, mean, factor, arr.dtype)


def adjust_saturation(arr: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the greyscale image (0 gives grey, 1 the original); no-op for 1 channel."""
    if _channels(arr, "adjust_saturation") == 1:
        return arr
    return _blend(arr, _grayscale(arr), factor, arr.dtype)


def adjust_hue(arr: np.ndarray, factor: float) -> np.ndarray:
    """Rotate the hue by ``factor`` turns (in [-0.5, 0.5]) in HSV space; no-op for 1 channel."""
    if not -0.5 <= factor <= 0.5:
        raise ValueError(f"hue_factor ({factor}) is not in [-0.5, 0.5].")
    if _channels(arr, "adjust_hue") == 1:
        return arr
    work = arr.astype(np.float64)
    if arr.dtype.kind != "f":
        work = work / _max_value(arr.dtype)
    h, s, v = _rgb_to_hsv(work)
    out = _hsv_to_rgb((h + factor) % 1.0, s, v)
    if arr.dtype.kind != "f":
        out = out * _max_value(arr.dtype)
    return out.astype(arr.dtype)


def _jitter_range(value, name: str, center: float = 1.0, bound=(0.0, math.inf),
                  clip_first_on_zero: bool = True):
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        value = [center - float(value), center + float(value)]
        if clip_first_on_zero:
            value[0] = max(value[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        value = [float(value[0]), float(value[1])]
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(f"{name} values should be between {bound}, but got {value}.")
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
    return None if value[0] == value[1] == center else tuple(value)


class ColorJitter:
    """Random brightness, contrast, saturation and hue changes, applied in a random order.

    Each argument is a number v (factor drawn from [max(0, 1 - v), 1 + v]; for hue from
    [-v, v] with v <= 0.5) or a (min, max) pair. Float images are taken to lie in [0, 1],
    integer images in [0, max of the dtype]; images have 1 or 3 channels at dimension -3.
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = _jitter_range(brightness, "brightness")
        self.contrast = _jitter_range(contrast, "contrast")
        self.saturation = _jitter_range(saturation, "saturation")
        self.hue = _jitter_range(hue, "hue", center=0, bound=(-0.5, 0.5),
                                 clip_first_on_zero=False)

    def __call__(self, img):
        arr, wrap = _unwrap(img, "ColorJitter")
        if arr.ndim < 3:
            arr = arr[None]
            wrap_2d = True
        else:
            wrap_2d = False
        rng = _rng()
        ops = [(self.brightness, adjust_brightness), (self.contrast, adjust_contrast),
               (self.saturation, adjust_saturation), (self.hue, adjust_hue)]
        for k in rng.permutation(4):
            rng_range, fn = ops[k]
            if rng_range is not None:
                arr = fn(arr, float(rng.uniform(rng_range[0], rng_range[1])))
        return wrap(np.ascontiguousarray(arr[0] if wrap_2d else arr))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")


class GaussianNoise:
    """Add N(mean, sigma^2) noise to every value of a float image; ``clip`` keeps [0, 1]
    (torchvision.transforms.v2.GaussianNoise)."""

    def __init__(self, mean: float = 0.0, sigma: float = 0.1, clip: bool = True):
        if sigma < 0:
            raise ValueError(f"sigma shouldn't be negative. Got {sigma}")
        self.mean, self.sigma, self.clip = mean, sigma, clip

    def __call__(self, img):
        arr, wrap = _unwrap(img, "GaussianNoise")
        if arr.dtype.kind != "f":
            raise ValueError(f"Input tensor is expected to be in float dtype, got dtype="
                             f"{arr.dtype}")
        noise = _rng().standard_normal(arr.shape) * self.sigma + self.mean
        out = arr + noise.astype(arr.dtype)
        if self.clip:
            out = np.clip(out, 0.0, 1.0)
        return wrap(out.astype(arr.dtype, copy=False))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, sigma={self.sigma}, clip={self.clip})"
