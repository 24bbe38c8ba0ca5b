"""torch.softmax / log_softmax / dropout at the top level and as Tensor methods."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F


def test_top_level_and_methods_match_functional(rng):
    x = ember.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    for fn, method, ref in ((ember.softmax, ember.Tensor.softmax, F.softmax),
                            (ember.log_softmax, ember.Tensor.log_softmax, F.log_softmax)):
        want = ref(x, 1).detach().numpy()
        np.testing.assert_array_equal(fn(x, 1).detach().numpy(), want)
        np.testing.assert_array_equal(method(x, 1).detach().numpy(), want)
        np.testing.assert_array_equal(x.softmax(0).detach().numpy(),
                                      F.softmax(x, 0).detach().numpy())
    np.testing.assert_allclose(ember.softmax(x, -1).sum(-1).detach().numpy(), 1.0, rtol=1e-12)
    assert ember.softmax(x, 1, dtype=ember.float32).dtype == ember.float32
    x.log_softmax(1).sum().backward()
    assert x.grad is not None


def test_dropout_train_flag(rng):
    x = ember.ones(1000, 100)
    np.testing.assert_array_equal(ember.dropout(x, 0.5, False).numpy(), x.numpy())
    y = ember.dropout(x, 0.5, True).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert abs((y == 0).mean() - 0.5) < 0.01


def test_torch_parity(rng):
    torch = pytest.importorskip("torch")
    a = rng.standard_normal((4, 7))
    np.testing.assert_allclose(ember.softmax(ember.tensor(a), 1).numpy(),
                               torch.softmax(torch.tensor(a), 1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(ember.tensor(a).log_softmax(0).numpy(),
                               torch.tensor(a).log_softmax(0).numpy(), rtol=1e-12)


def test_subpackages_reachable_after_import_ember():
    """``import ember`` is enough to reach every sub-package, as torch's are."""
    for name in ("nn", "optim", "utils", "data", "metrics", "models", "training", "ops"):
        assert hasattr(ember, name), name
