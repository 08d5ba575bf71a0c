"""The RI definition as the report typesets it: MathML for report.html, LaTeX for report.md
(GitHub renders $$...$$) and the .tex tables, plain text for the terminal, and the symbols in
words. One definition, several notations; the numbers themselves come from robustness.py."""

from __future__ import annotations

RI_LATEX = (r"\mathrm{RI}_i = \frac{1}{n-1} \sum_{j \neq i} \left( A_i^{(j)} - A_{\mathrm{pre}}^{(j)} \right),"
            r"\qquad \mathrm{mRI} = \frac{1}{|D|} \sum_{i \in D} \mathrm{RI}_i")

RI_TEXT = "RI_i = 1/(n-1) sum_(j != i) (A_i^(j) - A_pre^(j)),   mRI = 1/|D| sum_(i in D) RI_i"

RI_MATHML = (
    "<math><mrow>"
    "<msub><mi>RI</mi><mi>i</mi></msub><mo>=</mo>"
    "<mfrac><mn>1</mn><mrow><mi>n</mi><mo>&minus;</mo><mn>1</mn></mrow></mfrac>"
    "<munder><mo>&sum;</mo><mrow><mi>j</mi><mo>&ne;</mo><mi>i</mi></mrow></munder>"
    "<mrow><mo>(</mo>"
    "<msubsup><mi>A</mi><mi>i</mi><mrow><mo>(</mo><mi>j</mi><mo>)</mo></mrow></msubsup><mo>&minus;</mo>"
    "<msubsup><mi>A</mi><mi>pre</mi><mrow><mo>(</mo><mi>j</mi><mo>)</mo></mrow></msubsup>"
    "<mo>)</mo></mrow>"
    "<mspace width='2em'/>"
    "<mi>mRI</mi><mo>=</mo>"
    "<mfrac><mn>1</mn><mrow><mo>|</mo><mi>D</mi><mo>|</mo></mrow></mfrac>"
    "<munder><mo>&sum;</mo><mrow><mi>i</mi><mo>&isin;</mo><mi>D</mi></mrow></munder>"
    "<msub><mi>RI</mi><mi>i</mi></msub>"
    "</mrow></math>"
)


def ri_symbols(scope) -> list[tuple[str, str]]:
    """Each symbol of the formula (HTML-free text) and what it stands for in this report."""
    sets = ", ".join(scope.rib_sets) or "none"
    return [
        ("A_i^(j)", f"the top-1 accuracy (%) on {scope.sets_name.removesuffix('s')} j of the model fine-tuned on "
                    "downstream set i"),
        ("A_pre^(j)", "the top-1 accuracy (%) on set j of the same pretrained model before fine-tuning"),
        ("n", f"the number of {scope.sets_name} evaluated: n = {scope.n} ({sets}); the sum runs over the "
              "n − 1 sets other than i, or over all n (dividing by n) when i is not one of them, "
              "e.g. ImageNet-1K"),
        ("D", f"the downstream sets fine-tuned on ({len(scope.downstream)}); mRI is RI_i averaged over them"),
    ]
