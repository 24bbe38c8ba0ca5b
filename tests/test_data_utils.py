"""ember.data: splits, k-fold, resampling, class weights and image transforms."""
from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember._generator import Generator
from ember.data import (KFold, StratifiedKFold, class_weights, random_oversample,
                        random_undersample, train_test_split, train_val_test_split)
from ember.data import transforms as T


def imbalanced(n_per_class=(500, 300, 200), d=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.full(c, k) for k, c in enumerate(n_per_class)])
    y = rng.permutation(y)
    X = np.arange(y.size * d, dtype=np.float64).reshape(y.size, d)
    return X, y


# ----------------------------------------------------------------------------- splits
def test_train_val_test_split_sizes_disjoint_and_stratified():
    X, y = imbalanced()
    n = y.size
    Xtr, Xva, Xte, ytr, yva, yte = train_val_test_split(X, y, val_size=0.1, test_size=0.2,
                                                        seed=0)
    assert (len(ytr), len(yva), len(yte)) == (n - 100 - 200, 100, 200)
    rows = np.concatenate([Xtr[:, 0], Xva[:, 0], Xte[:, 0]]) / 3
    assert sorted(rows.astype(int).tolist()) == list(range(n))       # disjoint, complete
    np.testing.assert_array_equal(y[(Xte[:, 0] / 3).astype(int)], yte)  # rows stay paired
    overall = np.bincount(y) / n
    for part, size in ((ytr, 700), (yva, 100), (yte, 200)):
        counts = np.bincount(part, minlength=3)
        assert np.all(np.abs(counts - overall * size) <= 1), (counts, overall * size)


def test_train_val_test_split_stratify_small_classes_exact():
    # 7 of class 0, 3 of class 1: test 3 (ceil 0.3*10) -> shares 2.1 and 0.9 -> 2 and 1
    y = np.array([0] * 7 + [1] * 3)
    _, _, Xte, _, _, yte = train_val_test_split(np.arange(10), y, val_size=0.2,
                                                test_size=0.3, seed=1)
    assert np.bincount(yte).tolist() == [2, 1]


def test_train_val_test_split_determinism_kinds_and_order():
    X, y = imbalanced((30, 20))
    a = train_val_test_split(X, y, seed=5)
    b = train_val_test_split(X, y, seed=5)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    c = train_val_test_split(X, y, seed=Generator().manual_seed(5))
    assert len(c) == 6
    ember.manual_seed(3)
    d = train_val_test_split(X, y)
    ember.manual_seed(3)
    e = train_val_test_split(X, y)
    np.testing.assert_array_equal(d[2], e[2])
    tX, ty = ember.tensor(X), ember.tensor(y)
    out = train_val_test_split(tX, ty, seed=0)
    assert all(isinstance(o, ember.Tensor) for o in out)
    lists = train_val_test_split(list(range(50)), seed=0, stratify=False)
    assert len(lists) == 3 and isinstance(lists[0], list)
    tr, va, te = train_val_test_split(np.arange(10), val_size=2, test_size=3, shuffle=False,
                                      stratify=False)
    assert tr.tolist() == [0, 1, 2, 3, 4] and va.tolist() == [5, 6] and te.tolist() == [7, 8, 9]


def test_train_val_test_split_errors():
    with pytest.raises(ValueError, match="training set would be empty"):
        train_val_test_split(np.arange(10), val_size=0.5, test_size=0.5)
    with pytest.raises(ValueError, match="test_size=1.5"):
        train_val_test_split(np.arange(10), test_size=1.5)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        train_val_test_split(np.arange(10), np.arange(9))
    with pytest.raises(ValueError, match="shuffle=True"):
        train_val_test_split(np.arange(10), np.arange(10) % 2, shuffle=False)


def test_train_test_split_like_sklearn():
    X, y = imbalanced((40, 25, 10))
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    assert len(yte) == math.ceil(0.3 * 75) and len(ytr) == 75 - len(yte)
    assert np.all(np.abs(np.bincount(yte) - np.bincount(y) * len(yte) / 75) <= 1)
    a = train_test_split(np.arange(10), shuffle=False, test_size=3)
    assert a[0].tolist() == list(range(7)) and a[1].tolist() == [7, 8, 9]
    tr, te = train_test_split(np.arange(20), train_size=0.5, test_size=0.25, random_state=1)
    assert len(tr) == 10 and len(te) == 5 and not set(tr) & set(te)
    sk = pytest.importorskip("sklearn.model_selection")
    for kwargs in ({}, {"test_size": 0.33}, {"train_size": 0.6}, {"test_size": 7},
                   {"train_size": 0.5, "test_size": 0.2}):
        ours = train_test_split(np.arange(31), random_state=0, **kwargs)
        theirs = sk.train_test_split(np.arange(31), random_state=0, **kwargs)
        assert [len(o) for o in ours] == [len(t) for t in theirs]


def test_kfold_partitions():
    n, k = 23, 5
    folds = list(KFold(k).split(np.zeros(n)))
    assert len(folds) == k
    tests = [te for _, te in folds]
    assert [len(t) for t in tests] == [5, 5, 5, 4, 4]
    assert sorted(np.concatenate(tests).tolist()) == list(range(n))
    for tr, te in folds:
        assert sorted(np.concatenate([tr, te]).tolist()) == list(range(n))
    assert tests[0].tolist() == [0, 1, 2, 3, 4]          # unshuffled: consecutive blocks
    sh = [te.tolist() for _, te in KFold(k, shuffle=True, random_state=0).split(range(n))]
    assert sh == [te.tolist() for _, te in KFold(k, shuffle=True, random_state=0).split(range(n))]
    assert sorted(sum(sh, [])) == list(range(n)) and sh[0] != tests[0].tolist()
    assert KFold(3).get_n_splits() == 3


def test_kfold_errors():
    with pytest.raises(ValueError, match="n_splits=2 or more"):
        KFold(1)
    with pytest.raises(ValueError, match="random_state has no effect"):
        KFold(3, random_state=0)
    with pytest.raises(ValueError, match="greater than the number of samples"):
        list(KFold(5).split(np.zeros(3)))
    with pytest.raises(ValueError, match="needs the class labels"):
        list(StratifiedKFold(2).split(np.zeros(4)))
    with pytest.raises(ValueError, match="cannot be greater than the number of members"):
        list(StratifiedKFold(5).split(np.zeros(4), [0, 0, 1, 1]))
    with pytest.warns(UserWarning, match="least populated class"):
        list(StratifiedKFold(3).split(np.zeros(7), [0, 0, 0, 0, 0, 1, 1]))


def test_stratified_kfold_keeps_proportions():
    X, y = imbalanced((50, 30, 13))
    for shuffle, rs in ((False, None), (True, 3)):
        seen = []
        for tr, te in StratifiedKFold(4, shuffle=shuffle, random_state=rs).split(X, y):
            counts = np.bincount(y[te], minlength=3)
            assert np.all(np.abs(counts - np.bincount(y) / 4) < 1)
            assert not set(tr) & set(te)
            seen += te.tolist()
        assert sorted(seen) == list(range(y.size))


def test_folds_equal_sklearn_unshuffled():
    sk = pytest.importorskip("sklearn.model_selection")
    X, y = imbalanced((17, 9, 6), seed=4)
    y = np.where(y == 0, 2, np.where(y == 2, 0, y))      # first-appearance order != sorted
    for ours, theirs in ((KFold(4), sk.KFold(4)), (StratifiedKFold(3), sk.StratifiedKFold(3))):
        for (a, b), (c, d) in zip(ours.split(X, y), theirs.split(X, y)):
            np.testing.assert_array_equal(a, c)
            np.testing.assert_array_equal(b, d)


# ----------------------------------------------------------------------------- resampling
def test_random_oversample_balances():
    X, y = imbalanced((50, 20, 5))
    Xr, yr = random_oversample(X, y, seed=0)
    assert np.bincount(yr).tolist() == [50, 50, 50]
    np.testing.assert_array_equal(Xr[:75], X)                # originals first, in order
    np.testing.assert_array_equal(y[(Xr[:, 0] / 3).astype(int)], yr)   # rows stay paired
    Xs, ys = random_oversample(X, y, shuffle=True, seed=0)
    assert np.bincount(ys).tolist() == [50, 50, 50]
    _, yd = random_oversample(X, y, sampling_strategy={2: 10}, seed=0)
    assert np.bincount(yd).tolist() == [50, 20, 10]
    Xt, yt = random_oversample(ember.tensor(X), ember.tensor(y), seed=1)
    assert isinstance(Xt, ember.Tensor) and Xt.shape == (150, 3)
    with pytest.raises(ValueError, match="cannot shrink"):
        random_oversample(X, y, sampling_strategy={0: 10})


def test_random_undersample_balances():
    X, y = imbalanced((50, 20, 5))
    Xr, yr = random_undersample(X, y, seed=0)
    assert np.bincount(yr).tolist() == [5, 5, 5]
    rows = (Xr[:, 0] / 3).astype(int)
    assert np.all(np.diff(rows) > 0) and len(set(rows)) == 15   # a subset, in order
    np.testing.assert_array_equal(y[rows], yr)
    _, yd = random_undersample(X, y, sampling_strategy={0: 30}, seed=0)
    assert np.bincount(yd).tolist() == [30, 20, 5]
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        random_undersample(X[:3], y)
    with pytest.raises(ValueError, match="not in y"):
        random_undersample(X, y, sampling_strategy={7: 1})


def test_class_weights_formula():
    w = class_weights([0, 0, 0, 1])
    np.testing.assert_allclose(w, [4 / (2 * 3), 4 / (2 * 1)])
    y = np.array([2, 2, 5, 5, 5, 5, 9])
    np.testing.assert_allclose(class_weights(y), 7 / (3 * np.array([2, 4, 1])))
    assert class_weights(y, as_dict=True) == pytest.approx({2: 7 / 6, 5: 7 / 12, 9: 7 / 3})
    np.testing.assert_allclose(class_weights(y, mode=None), [1, 1, 1])
    with pytest.raises(ValueError, match="never occur"):
        class_weights(y, classes=[2, 5, 9, 11])
    with pytest.raises(ValueError, match="missing"):
        class_weights(y, classes=[2, 5])
    # weighted counts are equal across classes: sum over samples of w[y] is n/k per class
    w = class_weights(y)
    per_class = np.bincount(np.searchsorted([2, 5, 9], y), weights=w[np.searchsorted([2, 5, 9], y)])
    np.testing.assert_allclose(per_class, [7 / 3] * 3)
    sk = pytest.importorskip("sklearn.utils.class_weight")
    np.testing.assert_allclose(class_weights(y),
                               sk.compute_class_weight("balanced", classes=np.unique(y), y=y))


# ----------------------------------------------------------------------------- transforms
def image(c=3, h=5, w=5, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).random((c, h, w)).astype(dtype)


def test_flips():
    img = image()
    t = ember.tensor(img)
    hf, vf = T.RandomHorizontalFlip(p=1.0), T.RandomVerticalFlip(p=1.0)
    np.testing.assert_array_equal(hf(t).numpy(), img[:, :, ::-1])
    np.testing.assert_array_equal(vf(img), img[:, ::-1, :])
    np.testing.assert_array_equal(hf(hf(t)).numpy(), img)
    np.testing.assert_array_equal(vf(vf(img)), img)
    assert T.RandomHorizontalFlip(p=0.0)(t) is t
    batch = np.stack([img, img])
    np.testing.assert_array_equal(hf(batch), batch[..., ::-1])
    ember.manual_seed(0)
    flips = sum(not np.array_equal(T.RandomHorizontalFlip()(img), img) for _ in range(400))
    assert 150 < flips < 250


@pytest.mark.parametrize("interp", ["nearest", "bilinear"])
@pytest.mark.parametrize("angle,k", [(90, 1), (-90, -1), (180, 2), (270, 3)])
def test_rotation_quarter_turns_equal_rot90(interp, angle, k):
    img = image(2, 6, 6)
    out = T.RandomRotation((angle, angle), interpolation=interp)(ember.tensor(img))
    np.testing.assert_allclose(out.numpy(), np.rot90(img, k, axes=(1, 2)), atol=1e-6)
    assert out.dtype == ember.float32


def test_rotation_direction_expand_and_fill():
    img = np.zeros((1, 5, 5), np.float32)
    img[0, 2, 4] = 1.0                                    # right of the centre
    out = T.RandomRotation((90, 90))(img)
    assert out[0, 0, 2] == 1.0 and out.sum() == 1.0       # counter-clockwise: now above
    rect = image(1, 4, 6)
    out = T.RandomRotation((90, 90), expand=True)(rect)
    assert out.shape == (1, 6, 4)
    np.testing.assert_array_equal(out, np.rot90(rect, 1, axes=(1, 2)))
    # corners leave the image at 45 degrees: filled
    out = T.RandomRotation((45, 45), fill=7.0)(np.ones((1, 9, 9), np.float32))
    assert out[0, 0, 0] == 7.0 and out[0, 4, 4] == 1.0
    u8 = (image(3, 7, 7) * 255).astype(np.uint8)
    out = T.RandomRotation((33, 33), interpolation="bilinear")(u8)
    assert out.dtype == np.uint8 and out[:, 3, 3].tolist() == u8[:, 3, 3].tolist()


def test_rotation_bilinear_exact_on_linear_ramp():
    H, W = 9, 11
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    ramp = (2 * xx + 3 * yy)[None]
    angle = 30.0
    out = T.RandomRotation((angle, angle), interpolation=T.InterpolationMode.BILINEAR)(ramp)
    th = math.radians(angle)
    cx, cy = (W - 1) / 2, (H - 1) / 2
    sx = math.cos(th) * (xx - cx) - math.sin(th) * (yy - cy) + cx
    sy = math.sin(th) * (xx - cx) + math.cos(th) * (yy - cy) + cy
    inside = (sx >= 0) & (sx <= W - 1) & (sy >= 0) & (sy <= H - 1)
    np.testing.assert_allclose(out[0][inside], (2 * sx + 3 * sy)[inside], atol=1e-9)
    assert inside.sum() > 40


def test_rotation_random_range_and_errors():
    ember.manual_seed(1)
    img = image(1, 7, 7)
    outs = [T.RandomRotation(20)(img) for _ in range(3)]
    assert not np.array_equal(outs[0], outs[1])
    ember.manual_seed(1)
    np.testing.assert_array_equal(T.RandomRotation(20)(img), outs[0])
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomRotation(-5)
    with pytest.raises(ValueError):
        T.RandomRotation(5, interpolation="cubic")


def test_random_crop():
    img = image(3, 8, 10)
    ember.manual_seed(0)
    out = T.RandomCrop(4)(img)
    assert out.shape == (3, 4, 4)
    # the crop is a window of the input
    found = any(np.array_equal(out, img[:, i:i + 4, j:j + 4]) for i in range(5)
                for j in range(7))
    assert found
    padded = T.RandomCrop((12, 14), padding=2, fill=-1.0)(ember.tensor(img)).numpy()
    assert padded.shape == (3, 12, 14)
    np.testing.assert_array_equal(padded[:, 2:-2, 2:-2], img)
    assert np.all(padded[:, :2] == -1) and np.all(padded[:, :, -2:] == -1)
    ltrb = T.RandomCrop((8 + 4, 10 + 4), padding=(1, 2, 3, 2))(img)
    np.testing.assert_array_equal(ltrb[:, 2:-2, 1:-3], img)
    refl = T.RandomCrop((10, 12), padding=1, padding_mode="reflect")(img)
    np.testing.assert_array_equal(refl[:, 0, 1:-1], img[:, 1])
    grown = T.RandomCrop((10, 12), pad_if_needed=True)(img)
    assert grown.shape == (3, 10, 12)
    with pytest.raises(ValueError, match=r"Required crop size \(9, 4\) is larger"):
        T.RandomCrop((9, 4))(img)
    with pytest.raises(ValueError, match="Padding mode"):
        T.RandomCrop(3, padding_mode="wrap")


def test_center_crop():
    img = np.arange(36, dtype=np.float32).reshape(1, 6, 6)
    np.testing.assert_array_equal(T.CenterCrop(2)(img), img[:, 2:4, 2:4])
    np.testing.assert_array_equal(T.CenterCrop((4, 2))(img), img[:, 1:5, 2:4])
    big = T.CenterCrop(8)(img)
    assert big.shape == (1, 8, 8) and big[0, 0, 0] == 0 and big[0, 1, 1] == img[0, 0, 0]


def test_normalize_values():
    img = image(3, 4, 4)
    mean, std = [0.5, 0.4, 0.3], [0.2, 0.25, 0.5]
    out = T.Normalize(mean, std)(ember.tensor(img))
    expected = (img - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    # float32 (img - mean) cancels near zero: its error is absolute, ~eps32 * |img| / std.
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-6)
    assert out.dtype == ember.float32
    batch = np.stack([img, img * 2])
    np.testing.assert_allclose(T.Normalize(mean, std)(batch)[1],
                               (2 * img - np.array(mean)[:, None, None]) /
                               np.array(std)[:, None, None], rtol=1e-6)
    np.testing.assert_allclose(T.Normalize(0.5, 0.5)(img), (img - 0.5) / 0.5, rtol=1e-6)
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize(mean, std)(np.zeros((3, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize(mean, [1, 0, 1])(img)
    with pytest.raises(ValueError, match="channels"):
        T.Normalize([0.1, 0.2], [1, 1])(img)


def test_to_tensor():
    hwc = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    t = T.ToTensor()(hwc)
    assert t.shape == (3, 2, 4) and t.dtype == ember.float32
    np.testing.assert_allclose(t.numpy(), hwc.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    g = T.ToTensor()(np.full((5, 6), 255, np.uint8))
    assert g.shape == (1, 5, 6) and float(g.numpy().max()) == 1.0
    f64 = T.ToTensor()(np.ones((2, 2, 1)))
    assert f64.dtype == ember.float64 and float(f64.numpy().max()) == 1.0   # not rescaled
    with pytest.raises(TypeError, match="pic should be"):
        T.ToTensor()(ember.zeros(3, 2, 2))
    with pytest.raises(ValueError, match="2/3 dimensional"):
        T.ToTensor()(np.zeros(4))


def test_color_jitter_effects():
    img = image(3, 4, 4)
    out = T.ColorJitter(brightness=(0.5, 0.5))(img)
    np.testing.assert_allclose(out, img * 0.5, rtol=1e-6)
    out = T.ColorJitter(brightness=(2.0, 2.0))(img)
    np.testing.assert_allclose(out, np.clip(img * 2, 0, 1), rtol=1e-6)
    gray_mean = (0.2989 * img[0] + 0.587 * img[1] + 0.114 * img[2]).mean()
    out = T.ColorJitter(contrast=(0.0, 0.0))(img)
    np.testing.assert_allclose(out, np.full_like(img, gray_mean), rtol=1e-5)
    out = T.ColorJitter(saturation=(0.0, 0.0))(img)
    gray = 0.2989 * img[0] + 0.587 * img[1] + 0.114 * img[2]
    np.testing.assert_allclose(out, np.broadcast_to(gray, img.shape), rtol=1e-5)
    red = np.zeros((3, 2, 2), np.float32)
    red[0] = 1.0
    green = T.ColorJitter(hue=(1 / 3, 1 / 3))(red)
    np.testing.assert_allclose(green[1], 1.0, atol=1e-6)
    np.testing.assert_allclose(green[[0, 2]], 0.0, atol=1e-6)
    np.testing.assert_allclose(T.adjust_hue(img, 0.0), img, atol=1e-6)   # HSV round trip
    np.testing.assert_allclose(T.adjust_hue(T.adjust_hue(img, 0.2), -0.2), img, atol=1e-5)
    u8 = (img * 255).astype(np.uint8)
    assert T.ColorJitter(0.4, 0.4, 0.4, 0.1)(u8).dtype == np.uint8
    with pytest.raises(ValueError, match="non negative"):
        T.ColorJitter(brightness=-1)
    with pytest.raises(ValueError, match="hue values should be between"):
        T.ColorJitter(hue=(0, 0.7))


def test_gaussian_noise():
    ember.manual_seed(0)
    img = np.full((1, 200, 200), 0.5, np.float32)
    out = T.GaussianNoise(mean=0.1, sigma=0.05, clip=False)(ember.tensor(img)).numpy()
    assert abs(out.mean() - 0.6) < 0.005 and abs(out.std() - 0.05) < 0.005
    out = T.GaussianNoise(sigma=1.0)(img)
    assert out.min() >= 0 and out.max() <= 1 and out.dtype == np.float32
    with pytest.raises(ValueError, match="float dtype"):
        T.GaussianNoise()(np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="sigma"):
        T.GaussianNoise(sigma=-1)


def test_compose_lambda_random_apply():
    pipeline = T.Compose([T.ToTensor(), T.Normalize([0.5], [0.5]),
                          T.Lambda(lambda x: x * 2), T.RandomHorizontalFlip(p=1.0)])
    u8 = np.arange(6, dtype=np.uint8).reshape(2, 3) * 50
    out = pipeline(u8)
    expected = ((u8 / 255.0 - 0.5) / 0.5 * 2)[None, :, ::-1]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)
    assert "Normalize" in repr(pipeline)
    img = image()
    assert T.RandomApply([T.RandomVerticalFlip(1.0)], p=0.0)(img) is img
    np.testing.assert_array_equal(T.RandomApply([T.RandomVerticalFlip(1.0)], p=1.0)(img),
                                  img[:, ::-1])
