"""A test plugin whose entries say where they stand in the report: an OOD set that RI averages
over, placed between ImageNet-R (order 30) and ImageNet-Sketch (40), and a method placed between
FT (10) and LP (20)."""

from ribray.api import Method, WnidFolders, register_dataset, register_method


@register_dataset
class BetweenOod(WnidFolders):
    name = "between_ood"
    rib = True
    order = 35
    folder = "between-ood"


@register_method("between_ft")
class BetweenFt(Method):
    order = 15
    summary = "FT under another name, shown between FT and LP"
