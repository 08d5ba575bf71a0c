"""Final weights that are gone or damaged are named, file and all, as errors a retry would
repeat (they used to surface as a bare SafetensorError)."""

from __future__ import annotations

import pytest
import torch

from ribray.errors import PermanentError
from ribray.results.layout import weights_in
from ribray.storage import Location
from ribray.trials.weights import has_weights, load_weights, save_weights, weights_problem


@pytest.fixture
def weights(tmp_path) -> Location:
    folder = Location(str(tmp_path / "weights"))
    save_weights(folder, "k", {"w": torch.arange(500.0)}, train_fingerprint="6:abc")
    return folder


def test_whole_weights_load_and_have_no_problem(weights):
    assert weights_problem(weights_in(weights, "k")) is None and has_weights(weights, "k", "6:abc")
    assert torch.equal(load_weights(weights, "k")["w"], torch.arange(500.0))


def test_truncated_weights_fail_for_good_naming_the_file(weights):
    location = weights_in(weights, "k")
    data = location.read_bytes()
    location.write_bytes(data[: len(data) // 2])
    assert weights_problem(location).startswith("truncated or damaged")
    assert not has_weights(weights, "k", "6:abc")  # a fine-tune trains anew rather than read it
    with pytest.raises(PermanentError, match=rf"weights {location.uri} cannot be read \(SafetensorError"):
        load_weights(weights, "k")


def test_missing_and_foreign_files_are_said_so(weights):
    with pytest.raises(PermanentError, match="are missing .deleted since the sweep started"):
        load_weights(weights, "other")
    location = weights_in(weights, "k")
    location.write_bytes(b"PK\x03\x04 a zip file")
    assert weights_problem(location).startswith("not a safetensors file")
    assert weights_problem(weights_in(weights, "other")) == "missing"
