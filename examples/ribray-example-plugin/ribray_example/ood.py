"""An out-of-distribution set declared in code, as a spec's `datasets:` declares one: a folder in
the standard wnid-folder layout (`<data root>/example-ood/<wnid>/<image>`) of ten ImageNet-1K
classes (ImageNet-R's first ten), scored on those ten logits, and one of the sets RI averages
over (`rib=True`; reports then say that their n is not the paper's)."""

from ribray.api import wnid_folder_dataset

CLASSES = ["n01443537", "n01484850", "n01494475", "n01498041", "n01514859",
           "n01518878", "n01531178", "n01534433", "n01614925", "n01616318"]

wnid_folder_dataset("example_ood", folder="example-ood", classes=CLASSES, rib=True, short="ExOOD",
                    title="Example OOD set (ImageNet-R's first ten classes)")
