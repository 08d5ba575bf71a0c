"""LP-FT (Kumar et al. 2022): fine-tune all weights starting from the finished LP weights.

In the plan it is its own trial that depends on the LP trial of the same model, downstream
set and seed (`starts_from = "lp"`): the LP phase is shared with the sweep's LP results, and
the FT phase reads LP's exported weights. Each phase runs the sweep's full schedule.
"""

from ribray.methods import register
from ribray.methods.base import Method


@register("lp_ft")
class LinearProbeThenFineTune(Method):
    summary = "FT starting from the LP trial's weights (a dependent trial)"
    starts_from = "lp"
