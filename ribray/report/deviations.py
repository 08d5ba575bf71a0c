"""The "Deviations from the reference code" box: every known difference between the mode the
results were made in (`ribray.fidelity`) and the reference code, with its effect."""

from __future__ import annotations

from html import escape

from ribray.fidelity import DEVIATIONS, REFERENCE, effect

TITLE = "Deviations from the reference code"


def deviation_items(fidelity: str) -> list[dict]:
    """One item per known difference: its topic, whether the results differ from the reference
    there (`deviates`), what they did, what the reference does, and the effect."""
    items = []
    for deviation in DEVIATIONS:
        reproduced = fidelity == REFERENCE and deviation.switched
        items.append({"topic": deviation.topic, "deviates": not reproduced,
                      "results": deviation.reference if reproduced else deviation.ribray,
                      "reference": deviation.reference, "effect": effect(deviation)})
    return items


def deviations_text(fidelity: str) -> list[str]:
    """The box as lines of text (terminal, Markdown)."""
    items = deviation_items(fidelity)
    deviating = sum(item["deviates"] for item in items)
    lines = [f"{TITLE} (fidelity: {fidelity}; {deviating} of {len(items)} differ"
             f"{'' if fidelity == REFERENCE else '; fidelity: reference switches the others'}):"]
    for item in items:
        if item["deviates"]:
            lines.append(f"- {item['topic']}: here {item['results']}; the reference: {item['reference']}. "
                         f"Effect: {item['effect']}")
        else:
            lines.append(f"- {item['topic']}: as the reference ({item['reference']})")
    return lines


def deviations_html(fidelity: str) -> str:
    """The box as an HTML section."""
    cell = "<td style='white-space: normal; text-align: left; min-width: 12em'>"
    rows = "".join(
        f"<tr><td>{escape(item['topic'])}</td>{cell}{'differs' if item['deviates'] else 'as the reference'}</td>"
        f"{cell}{escape(item['results'])}</td>{cell}{escape(item['reference'])}</td>"
        f"{cell}{escape(item['effect']) if item['deviates'] else ''}</td></tr>"
        for item in deviation_items(fidelity))
    return (f"<h2>{TITLE}</h2><p>These results: <code>fidelity: {escape(fidelity)}</code>.</p>"
            "<div class='scroll'><table class='deviations'><thead><tr><th>What</th><th>Here</th>"
            "<th>These results</th><th>The reference code</th><th>Effect</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>")
