"""LP-FT (Kumar et al. 2022): fine-tune every weight, starting from the finished LP weights.

The LP phase is not re-run inside this trial: `starts_from = "lp"` makes the plan add LP-FT
as a trial that depends on the LP trial of the same model, downstream set, seed and subset,
and the trial loads LP's exported weights into the base model before `prepare`. So the LP
phase is shared with the sweep's LP results, both phases run the sweep's full schedule (as
the reference code does: 10 epochs of LP, then 10 of FT), and an interrupted sweep never
redoes a finished LP phase.
"""

from ribray.methods import register
from ribray.methods.base import Method


@register("lp_ft")
class LinearProbeThenFineTune(Method):
    order = 30
    summary = "FT starting from the finished LP trial's weights (a dependent trial)"
    starts_from = "lp"
