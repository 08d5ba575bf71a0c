"""The plan: every trial of a spec as a typed value, with dependencies and hashed ids
(`make_plan`), and what it will cost (`estimate`). A pure function of the spec: no Ray, no
torch. Trial kinds are one file each, registered with @register_kind (the protocol: `Trial`)."""

from ribray.options import PRETRAINED
from ribray.plan.cka import CkaTrial
from ribray.plan.finetune import Curves, FinetuneTrial
from ribray.plan.interpolate import InterpolateTrial
from ribray.plan.make import Plan, make_plan
from ribray.plan.otdd import OtddTrial
from ribray.plan.pretrained import PretrainedTrial
from ribray.plan.trial import (
    KINDS,
    ModelRef,
    Phase,
    Trial,
    Work,
    kinds_in_order,
    method_label,
    register_kind,
    trial_label,
)

__all__ = ["KINDS", "PRETRAINED", "CkaTrial", "Curves", "FinetuneTrial", "InterpolateTrial", "ModelRef", "OtddTrial",
           "Phase", "Plan", "PretrainedTrial", "Trial", "Work", "kinds_in_order", "make_plan", "method_label",
           "register_kind", "trial_label"]
