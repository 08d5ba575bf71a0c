"""The "Deviations from the reference code" box: every known difference between the mode the
results were made in (`ribray.fidelity`) and the reference code, with its effect. A report
lists the differences that concern its results (an OTDD estimator means nothing to a sweep
without OTDD) and names the others in one line."""

from __future__ import annotations

from html import escape

import pandas as pd

from ribray.fidelity import CONCERNS, DEVIATIONS, REFERENCE, effect
from ribray.models.paper import reference_preprocessing
from ribray.plan import KINDS, OtddTrial
from ribray.report.markup import with_code
from ribray.report.rows import optional_column

TITLE = "Deviations from the reference code"


def concerns_of(rows: pd.DataFrame) -> frozenset[str]:
    """What of `CONCERNS` the result rows hold: evaluations, ObjectNet's, trials that train (their
    kind produces weights; and on ObjectNet), the paper's ResNet-50, OTDD analyses."""
    kinds, eval_sets, downstream = (optional_column(rows, name) for name in ("kind", "eval_set", "downstream"))
    trained = kinds.isin({kind for kind in kinds.dropna().unique() if kind in KINDS and KINDS.get(kind).produces_weights})
    models = optional_column(rows, "model_name").dropna().unique()
    found = {"evaluation"} if optional_column(rows, "top1").notna().any() else set()
    found |= {"objectnet"} if (eval_sets == "objectnet").any() else set()
    found |= {"training"} if trained.any() else set()
    found |= {"objectnet_training"} if (trained & (downstream == "objectnet")).any() else set()
    found |= {"resnet50"} if any(reference_preprocessing(name) for name in models) else set()
    found |= {"otdd"} if (kinds == OtddTrial.kind).any() else set()
    return frozenset(found)


def deviation_items(fidelity: str, concerns: frozenset[str] | None = None) -> list[dict]:
    """One item per known difference that concerns the results (every one when `concerns` is
    None): its topic, whether the results differ from the reference there (`deviates`), what
    they did, what the reference does, and the effect."""
    items = []
    for deviation in DEVIATIONS:
        if concerns is not None and deviation.concerns not in concerns:
            continue
        reproduced = fidelity == REFERENCE and deviation.switched
        items.append({"topic": deviation.topic, "deviates": not reproduced,
                      "results": deviation.reference if reproduced else deviation.ribray,
                      "reference": deviation.reference, "effect": effect(deviation)})
    return items


def unconcerned(concerns: frozenset[str] | None) -> list[str]:
    """'topic (no ...)' for each known difference the results hold nothing of."""
    if concerns is None:
        return []
    return [f"{d.topic} (no {CONCERNS[d.concerns]})" for d in DEVIATIONS if d.concerns not in concerns]


def deviations_text(fidelity: str, concerns: frozenset[str] | None = None) -> list[str]:
    """The box as lines of text (terminal, Markdown)."""
    items = deviation_items(fidelity, concerns)
    deviating = sum(item["deviates"] for item in items)
    lines = [f"{TITLE} (fidelity: {fidelity}; {deviating} of {len(items)} differ"
             f"{'' if fidelity == REFERENCE else '; fidelity: reference switches the others'}):"]
    for item in items:
        if item["deviates"]:
            lines.append(f"- {item['topic']}: here {item['results']}; the reference: {item['reference']}. "
                         f"Effect: {item['effect']}")
        else:
            lines.append(f"- {item['topic']}: as the reference ({item['reference']})")
    if skipped := unconcerned(concerns):
        lines.append(f"- Not in these results: {'; '.join(skipped)}")
    return lines


def deviations_html(fidelity: str, concerns: frozenset[str] | None = None) -> str:
    """The box as an HTML section."""
    cell = "<td class='text'>"  # the text columns wrap; the two short ones do not
    rows = "".join(
        f"<tr><td>{escape(item['topic'])}</td><td>{'differs' if item['deviates'] else 'as the reference'}</td>"
        f"{cell}{with_code(item['results'])}</td>{cell}{with_code(item['reference'])}</td>"
        f"{cell}{with_code(item['effect']) if item['deviates'] else ''}</td></tr>"
        for item in deviation_items(fidelity, concerns))
    skipped = unconcerned(concerns)
    return (f"<h2>{TITLE}</h2><p>These results: <code>fidelity: {escape(fidelity)}</code>.</p>"
            "<div class='scroll'><table class='deviations'><thead><tr><th>What</th><th>Here</th>"
            "<th>These results</th><th>The reference code</th><th>Effect</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>"
            + (f"<p>Not in these results: {escape('; '.join(skipped))}.</p>" if skipped else ""))
