"""An example ribray plugin package: one file per entry, registered with `ribray.api`.

- `fisher_ewc`: EWC as Kirkpatrick et al. (2017) define it, with a diagonal Fisher estimate
  (ribray's `ewc` is the paper's L2-SP);
- `example_ood`: an out-of-distribution set declared in code (ImageNet-R's first ten classes in
  the standard wnid-folder layout; RI averages over it);
- `example_convnet`: a small convolutional network that is not a timm model, with its
  preprocessing and its parts (so LP, LoRA and VPT know what to train).

Use it from a spec as a folder (`plugins: [./ribray_example/]`) or, installed
(`pip install ./examples/ribray-example-plugin`), by its module name (`plugins: [ribray_example]`).
"""

from ribray_example import convnet, fisher_ewc, ood  # noqa: F401  (each registers its entry)
