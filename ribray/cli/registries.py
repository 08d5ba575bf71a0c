"""`ribray models` and `ribray methods`: list the registries with their defaults.

Importing this module stays cheap (no torch, ray or timm): the registries are imported
inside the commands, and their entry files import torch only when a model is built.
"""

from __future__ import annotations

import json
import sys

import click

MODEL_NAMES_NOTE = ("Any timm model name works too (e.g. vit_base_patch16_224.augreg_in1k), and "
                    "open_clip:ARCH/TAG builds a CLIP zero-shot classifier (e.g. "
                    "open_clip:ViT-B-16/laion2b_s34b_b88k).")
PLUGINS_NOTE = ("SOURCE: ribray's own entries, a --plugin, or an installed package's `ribray.plugins` entry point "
                "(listed, but used by a sweep only when its spec names it under plugins:).")

plugin_option = click.option("--plugin", "plugins", multiple=True, metavar="PLUGIN",
                             help="also list what PLUGIN registers (a module, a .py file or a folder); repeatable")


def with_plugins(plugins: tuple[str, ...]) -> dict[str, str]:
    """Load --plugin and the installed entry points; origin -> how SOURCE shows it."""
    from ribray.plugins import for_listing
    from ribray.registry import BUILTIN

    shown, warnings = for_listing(plugins)
    for warning in warnings:
        click.secho(warning, fg="yellow", err=True)
    return {BUILTIN: BUILTIN} | shown


@click.command()
@click.option("--json", "as_json", is_flag=True, help="print the registry as JSON")
@plugin_option
@click.option("--check", is_flag=True,
              help="check which registered models' pretrained weights are in the local cache")
@click.option("--download", "downloads", multiple=True, metavar="NAME",
              help="download NAME's pretrained weights into the cache (needs internet, HF_HUB_OFFLINE=0)")
def models(as_json: bool, plugins: tuple[str, ...], check: bool, downloads: tuple[str, ...]) -> None:
    """List the registered pretrained models (name, family, paper column, weights source, where
    the entry comes from)."""
    from ribray.models import MODELS, download_weights

    origins = with_plugins(plugins)
    for name in downloads:
        download_weights(name)
        click.echo(f"{name}: weights cached")
    if downloads:
        return
    rows = [{"name": name, "family": entry.family, "paper_column": entry.paper_column,
             "source": entry.source, "summary": entry.summary, "origin": origins[MODELS.origin(name)]}
            for name, entry in MODELS.items()]
    if check:
        rows = [row | {"weights": _weights_status(row["name"])} for row in rows]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        columns = ["name", "family", "paper_column", "source"] + (["weights"] if check else ["summary"]) + ["origin"]
        click.echo(_table(rows, columns))
        click.echo("\n" + MODEL_NAMES_NOTE + "\n" + PLUGINS_NOTE.replace("SOURCE", "ORIGIN"))
    if check and any(row["weights"] not in ("cached", "none needed") for row in rows):
        sys.exit(1)


def _weights_status(name: str) -> str:
    from ribray.models import MODELS
    from ribray.models.resolve import missing_weights

    if not MODELS.get(name).source:
        return "none needed"
    problem = missing_weights(name)
    return f"missing ({problem.split(': ', 1)[1]})" if problem else "cached"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="print the registries as JSON")
@plugin_option
def methods(as_json: bool, plugins: tuple[str, ...]) -> None:
    """List the fine-tuning methods and the interpolations (WiSE-FT, soups) with their
    options' defaults (as in the paper), and where each comes from."""
    from ribray.interpolations import INTERPOLATIONS
    from ribray.methods import METHODS

    origins = with_plugins(plugins)
    rows = [_method_row(name, method) | {"source": origins[METHODS.origin(name)]} for name, method in METHODS.items()]
    combined = [_interpolation_row(name, interpolation) | {"source": origins[INTERPOLATIONS.origin(name)]}
                for name, interpolation in INTERPOLATIONS.items()]
    if as_json:
        click.echo(json.dumps({"methods": rows, "interpolations": combined}, indent=2))
        return
    for row in rows + combined:
        row["options"] = " ".join(f"{k}={v}" for k, v in row["options"].items()) or "-"
    for row in rows:
        row["notes"] = "; ".join(filter(None, [
            "" if row["interpolatable"] else "not interpolatable",
            f"starts from {row['starts_from']}" if row["starts_from"] else ""])) or "-"
    click.echo(_table(rows, ["name", "options", "summary", "notes", "source"]))
    click.echo("\nInterpolations (under `interpolations:`; they combine finished fine-tunes, no training):")
    click.echo(_table(combined, ["name", "options", "summary", "source"]))
    click.echo("\n" + PLUGINS_NOTE)


def _defaults(options_class, skip: tuple[str, ...] = ()) -> dict:
    from pydantic import BaseModel

    values = {field: (info.default_factory() if info.default_factory else info.default)
              for field, info in options_class.model_fields.items() if field not in skip}
    return {k: v.model_dump() if isinstance(v, BaseModel) else v for k, v in values.items()}


def _method_row(name: str, method) -> dict:
    return {"name": name, "summary": method.summary, "options": _defaults(method.Options, ("train",)),
            "interpolatable": method.interpolatable, "starts_from": method.starts_from,
            "not_interpolatable_reason": getattr(method, "not_interpolatable_reason", None)}


def _interpolation_row(name: str, interpolation) -> dict:
    return {"name": name, "summary": interpolation.summary, "options": _defaults(interpolation.Options)}


def _table(rows: list[dict], columns: list[str]) -> str:
    """Left-aligned plain-text columns with a header line."""
    cells = [[c.upper().replace("_", " ") for c in columns]] + [[str(r[c] or "-") for c in columns] for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in cells)
