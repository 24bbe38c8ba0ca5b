"""ember.models sequence architectures: SequenceClassifier, LanguageModel, Seq2Seq,
TransformerClassifier and sinusoidal_positions (shapes, semantics, backward, training)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import optim
from ember.models import (LanguageModel, Seq2Seq, SequenceClassifier, TransformerClassifier,
                          sinusoidal_positions)


@pytest.fixture(autouse=True)
def _seed():
    ember.manual_seed(0)


def _all_grads_finite_nonzero(model):
    for name, p in model.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        g = p.grad.numpy()
        assert np.all(np.isfinite(g)), name
        assert np.any(g != 0), f"{name} has an all-zero gradient"


def _train_steps(model, batch_fn, steps=30, lr=0.01):
    opt = optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = batch_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


# ------------------------------------------------------------------ sinusoidal_positions
@pytest.mark.parametrize("dim", [8, 5])
def test_sinusoidal_positions_formula(dim):
    pe = sinusoidal_positions(7, dim)
    assert pe.shape == (7, dim) and pe.dtype == np.float32
    for p in range(7):
        for j in range(dim):
            angle = p / 10000 ** ((j - j % 2) / dim)
            want = math.sin(angle) if j % 2 == 0 else math.cos(angle)
            assert pe[p, j] == pytest.approx(want, abs=1e-6)


def test_sinusoidal_positions_match_torch_tutorial_formula():
    # the formula of the PyTorch transformer tutorial (div_term via exp/log)
    torch = pytest.importorskip("torch")
    L, d = 11, 16
    pos = torch.arange(L).unsqueeze(1)
    div = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))
    want = torch.zeros(L, d)
    want[:, 0::2] = torch.sin(pos * div)
    want[:, 1::2] = torch.cos(pos * div)
    np.testing.assert_allclose(sinusoidal_positions(L, d), want.numpy(), atol=1e-6)


# ------------------------------------------------------------------- SequenceClassifier
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_sequence_classifier_shapes_and_backward(kind, bidirectional):
    model = SequenceClassifier(3, 6, 4, kind=kind, bidirectional=bidirectional)
    x = ember.randn(5, 7, 3)
    out = model(x)
    assert tuple(out.shape) == (5, 4)
    F.cross_entropy(out, ember.tensor([0, 1, 2, 3, 0])).backward()
    _all_grads_finite_nonzero(model)


def test_sequence_classifier_uses_final_state_of_each_direction():
    model = SequenceClassifier(3, 6, 2, kind="lstm", bidirectional=True)
    x = ember.randn(4, 5, 3)
    with ember.no_grad():
        _, (h_n, _) = model.rnn(x)                 # h_n (2, N, H): forward, backward
        want = model.head(ember.cat([h_n[0], h_n[1]], dim=1))
        np.testing.assert_allclose(model(x).numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def test_sequence_classifier_token_input_and_errors():
    model = SequenceClassifier(8, 6, 3, kind="gru", vocab_size=10, num_layers=2)
    tokens = ember.tensor(np.random.default_rng(0).integers(0, 10, size=(4, 9)))
    assert tuple(model(tokens).shape) == (4, 3)
    with pytest.raises(ValueError, match="lstmm"):
        SequenceClassifier(3, 4, 2, kind="lstmm")


def test_sequence_classifier_learns_first_token():
    # label = first token of the sequence: the state must carry it to the end
    rng = np.random.default_rng(0)
    X = rng.integers(0, 3, size=(64, 6))
    model = SequenceClassifier(8, 16, 3, kind="gru", vocab_size=3)
    losses = _train_steps(model, lambda: F.cross_entropy(model(ember.tensor(X)),
                                                         ember.tensor(X[:, 0])), steps=40)
    assert losses[-1] < 0.5 * losses[0]


# ----------------------------------------------------------------------- LanguageModel
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_language_model_shapes_and_state_continuation(kind):
    model = LanguageModel(11, embed_dim=8, hidden_size=12, kind=kind, num_layers=2)
    tokens = ember.tensor(np.random.default_rng(1).integers(0, 11, size=(3, 10)))
    logits, state = model(tokens)
    assert tuple(logits.shape) == (3, 10, 11)
    # running the two halves with the state carried over gives the same logits
    with ember.no_grad():
        a, s = model(tokens[:, :4])
        b, _ = model(tokens[:, 4:], s)
        np.testing.assert_allclose(ember.cat([a, b], dim=1).numpy(), logits.detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
    F.cross_entropy(logits[:, :-1].reshape(-1, 11), tokens[:, 1:].reshape(-1)).backward()
    _all_grads_finite_nonzero(model)


def test_language_model_learns_a_cycle_and_generates_it():
    seq = np.tile(np.arange(5), 8)                   # 0 1 2 3 4 0 1 ...
    X = ember.tensor(np.stack([np.roll(seq, -k) for k in range(5)]))
    model = LanguageModel(5, embed_dim=8, hidden_size=16, kind="lstm")

    def loss():
        logits, _ = model(X[:, :-1])
        return F.cross_entropy(logits.reshape(-1, 5), X[:, 1:].reshape(-1))
    losses = _train_steps(model, loss, steps=60, lr=0.03)
    assert losses[0] > 0.8 * math.log(5) and losses[-1] < 0.1
    out = model.generate([2, 3], 8, temperature=0.1, generator=np.random.default_rng(0))
    assert out == [2, 3, 4, 0, 1, 2, 3, 4, 0, 1]
    assert model.training                             # generate restores the mode


def test_language_model_generate_is_reproducible():
    model = LanguageModel(7, embed_dim=4, hidden_size=8)
    a = model.generate([1], 12, generator=np.random.default_rng(5))
    b = model.generate([1], 12, generator=np.random.default_rng(5))
    assert a == b and len(a) == 13 and all(0 <= t < 7 for t in a)


# ---------------------------------------------------------------------------- Seq2Seq
def _reversal_batch(rng, n=32, length=4, vocab=6):
    src = rng.integers(1, vocab, size=(n, length))
    tgt = src[:, ::-1]
    bos = np.full((n, 1), vocab)                    # BOS = vocab (the extra target symbol)
    return src, np.concatenate([bos, tgt[:, :-1]], axis=1), tgt


def test_seq2seq_shapes_and_backward():
    model = Seq2Seq(6, 7, embed_dim=8, hidden=12)
    src, tgt_in, _ = _reversal_batch(np.random.default_rng(0), n=5)
    logits = model(ember.tensor(src), ember.tensor(tgt_in))
    assert tuple(logits.shape) == (5, 4, 7)
    logits.sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and np.all(np.isfinite(p.grad.numpy())), name
    ids, attn = model.greedy_decode(ember.tensor(src), 6, bos=6)
    assert tuple(ids.shape) == (5, 6) and tuple(attn.shape) == (5, 6, 4)
    np.testing.assert_allclose(attn.numpy().sum(axis=2), 1.0, rtol=1e-5)


def test_seq2seq_ignores_trailing_padding():
    model = Seq2Seq(6, 7, embed_dim=8, hidden=12, pad_id=0)
    src = np.array([[3, 4, 5, 0], [1, 2, 0, 0]])
    longer = np.concatenate([src, np.zeros((2, 3), np.int64)], axis=1)
    tgt_in = ember.tensor(np.array([[6, 1, 2], [6, 3, 3]]))
    with ember.no_grad():
        a = model(ember.tensor(src), tgt_in).numpy()
        b = model(ember.tensor(longer), tgt_in).numpy()
        _, attn = model.greedy_decode(ember.tensor(longer), 3, bos=6)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert np.all(attn.numpy()[0, :, 3:] == 0) and np.all(attn.numpy()[1, :, 2:] == 0)


def test_seq2seq_training_reduces_loss():
    rng = np.random.default_rng(0)
    src, tgt_in, tgt_out = (ember.tensor(a) for a in _reversal_batch(rng, n=64))
    model = Seq2Seq(6, 7, embed_dim=16, hidden=32)
    losses = _train_steps(model, lambda: F.cross_entropy(
        model(src, tgt_in).reshape(-1, 7), tgt_out.reshape(-1)), steps=40)
    assert losses[-1] < 0.5 * losses[0]


# --------------------------------------------------------------- TransformerClassifier
def test_transformer_classifier_shapes_and_backward():
    model = TransformerClassifier(9, 3, d_model=16, nhead=2, num_layers=2,
                                  dim_feedforward=32, dropout=0.0)
    tokens = ember.tensor(np.random.default_rng(0).integers(0, 9, size=(4, 6)))
    out = model(tokens)
    assert tuple(out.shape) == (4, 3)
    F.cross_entropy(out, ember.tensor([0, 1, 2, 0])).backward()
    _all_grads_finite_nonzero(model)
    assert "positions" not in model.state_dict()     # a fixed, non-persistent buffer


def test_transformer_classifier_ignores_padding():
    model = TransformerClassifier(9, 2, d_model=16, nhead=4, num_layers=2, pad_id=0)
    model.eval()
    tokens = np.array([[3, 4, 5, 0, 0], [1, 2, 8, 7, 6]])
    longer = np.concatenate([tokens, np.zeros((2, 4), np.int64)], axis=1)
    with ember.no_grad():
        a = model(ember.tensor(tokens)).numpy()
        b = model(ember.tensor(longer)).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_transformer_classifier_learns_token_presence():
    rng = np.random.default_rng(0)
    X = rng.integers(1, 6, size=(64, 8))
    y = (X == 5).any(axis=1).astype(np.int64)
    model = TransformerClassifier(6, 2, d_model=16, nhead=2, num_layers=1,
                                  dim_feedforward=32, dropout=0.0)
    losses = _train_steps(model, lambda: F.cross_entropy(model(ember.tensor(X)),
                                                         ember.tensor(y)), steps=40)
    assert losses[-1] < 0.5 * losses[0]


def test_transformer_classifier_embedding_scale_matches_positions():
    # Embedding * sqrt(d_model) starts at unit scale, like the sinusoidal positions
    model = TransformerClassifier(200, 2, d_model=64, nhead=4, pad_id=3)
    w = model.embed.weight.detach().numpy()
    assert np.std(w) * math.sqrt(64) == pytest.approx(1.0, rel=0.1)
    assert np.all(w[3] == 0)
