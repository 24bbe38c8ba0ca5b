"""Run the fast mode of every sequence example (examples/) and assert the figure it reaches."""
from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(name: str, tmp_path):
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(fast=True, out_dir=tmp_path)
    assert isinstance(result, dict)
    return result


def _has_png(tmp_path, name: str):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    assert (tmp_path / name).is_file(), f"{name} was not written"


def test_word_embeddings(tmp_path):
    r = _run("word_embeddings", tmp_path)
    # 4 topics of 8 words: a random nearest neighbour would share the topic 7/31 of the time
    assert r["neighbour_topic_accuracy"] >= 0.9
    assert r["final_loss"] < r["first_loss"]
    _has_png(tmp_path, "word_embeddings.png")


def test_sine_forecasting(tmp_path):
    r = _run("sine_forecasting", tmp_path)
    # one-step forecasts far better than repeating the last value (naive MSE ~0.09)
    assert r["test_mse"] < 0.03
    assert r["test_mse"] < r["naive_mse"] / 3
    _has_png(tmp_path, "sine_forecasting.png")


def test_char_language_model(tmp_path):
    r = _run("char_language_model", tmp_path)
    # a uniform guess over the vocabulary has perplexity V (28 here)
    assert r["perplexity"] < r["uniform_perplexity"] / 4
    assert r["final_loss"] < r["initial_loss"] / 2
    assert math.isclose(r["initial_loss"], math.log(r["uniform_perplexity"]), rel_tol=0.2)
    assert r["sample"].startswith("it was the ") and len(r["sample"]) == len("it was the ") + 160
    _has_png(tmp_path, "char_language_model.png")


def test_seq2seq_attention(tmp_path):
    r = _run("seq2seq_attention", tmp_path)
    # exact match of whole reversed sequences (chance is ~6^-4.5); full mode reaches >= 95%
    assert r["exact_match"] >= 0.9
    assert r["exact_match"] > r["first_epoch_exact_match"]
    _has_png(tmp_path, "seq2seq_attention.png")


def test_sequence_memory(tmp_path):
    r = _run("sequence_memory", tmp_path)
    gated = [r[f"{m}_accuracy"] for m in ("GRU", "LSTM", "BiLSTM")]
    # the gated models remember the symbols; the plain RNN stays far behind (chance is 1/4)
    assert min(gated) >= 0.8
    assert r["RNN_accuracy"] < min(gated) - 0.25
    assert r["RNN_sequence_accuracy"] < 0.1
    assert min(r[f"{m}_sequence_accuracy"] for m in ("GRU", "LSTM", "BiLSTM")) >= 0.5
    _has_png(tmp_path, "sequence_memory.png")


def test_transformer_classifier(tmp_path):
    r = _run("transformer_classifier", tmp_path)
    # balanced classes: chance is 50%; counting tokens cannot solve it (order matters)
    assert r["test_accuracy"] >= 0.8
    assert r["final_loss"] < r["first_loss"] / 2
    _has_png(tmp_path, "transformer_classifier.png")
