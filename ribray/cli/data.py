"""`ribray data ...`: list, check and generate the benchmark's datasets (no downloads).

Importing this module imports neither torch nor ray: commands import what they need.
"""

from __future__ import annotations

import sys

import click

from ribray.cli.help import FullHelpGroup
from ribray.cli.registries import plugin_option, with_plugins


@click.group(cls=FullHelpGroup)
def data() -> None:
    """The benchmark's datasets: list, check, generate fakes, where to get them."""


@data.command("list")
@click.option("--spec", "spec_path", default=None, type=click.Path(exists=True, dir_okay=False),
              help="also the datasets the spec declares (datasets:) and its plugins register")
@plugin_option
def list_datasets(spec_path: str | None, plugins: tuple[str, ...]) -> None:
    """Every dataset ribray knows: classes, expected images, scoring, default folder, whether RI
    averages over it, and where the entry comes from."""
    from ribray.data import DATASETS

    origins = with_plugins(plugins) if not spec_path else _spec_origins(spec_path)
    click.echo(f"{'name':<20} {'classes':>7} {'images':>10}  {'folder under the data root':<32} {'RI':<3} "
               f"{'source':<24} scoring")
    for name, entry in DATASETS.items():
        origin = DATASETS.origin(name)
        images = f"{entry.expected_images:,}" if entry.expected_images else "?"
        click.echo(f"{name:<20} {entry.num_classes:>7} {images:>10}  "
                   f"{entry.folder:<32} {'yes' if entry.rib else '':<3} {origins.get(origin, origin):<24} "
                   f"{entry.scoring()}")


@data.command()
@click.argument("root", required=False, type=click.Path(path_type=str))
@click.option("--datasets", default=None, help="comma-separated names; exit 1 if any is unusable")
@click.option("--spec", "spec_path", default=None, type=click.Path(exists=True, dir_okay=False),
              help="check the spec's downstream and eval sets, at its data.root and data.folders")
@click.option("--verify-images", is_flag=True, help="also decode every image (slow on real data)")
def check(root: str | None, datasets: str | None, spec_path: str | None, verify_images: bool) -> None:
    """Report every dataset under ROOT (or those named): ok / GENERATED (a complete fake from
    `ribray data fake`) / missing / PROBLEM, with counts.

    Exit 1 when a named set (--datasets, --spec) is unusable, or, without names, when a set the
    paper's sweeps read (ImageNet-1K train and val, the eight ImageNet-RIB sets) is."""
    from ribray.data import DATASETS, PAPER_SETS
    from ribray.data.check import check_datasets

    names, folders = (datasets.split(",") if datasets else []), {}
    if spec_path:
        root, spec_names, folders = _from_spec(spec_path, root)
        names = names or spec_names
    if root is None:
        raise click.UsageError("give ROOT (the data root) or --spec")
    required = names or list(PAPER_SETS)
    results = check_datasets(root, names or DATASETS.names(), folders, verify_images=verify_images)
    for result in results:
        status = "PROBLEM" if result.found and not result.usable else "missing" if not result.found else \
            "GENERATED" if result.generated else "ok"
        click.echo(f"{result.name:<20} {status:<9} {result.images:>10,} images  {result.path}")
        for problem in result.problems:
            click.echo(f"    - {problem}")
    if not any(r.found for r in results):
        click.echo(f"no dataset found under {root}; see `ribray data download-help`")
    generated = [r.name for r in results if r.found and r.generated]
    if generated:
        click.echo(f"WARNING: {len(generated)} set(s) hold generated images (`ribray data fake`), not the real "
                   f"data: {', '.join(generated)}. They are complete for tests and the demo; accuracies, RI and "
                   "mRI computed on them say nothing about real models.")
    unusable = [r.name for r in results if not r.usable and r.name in required]
    if unusable:
        why = "" if names else " (the paper's sweeps read them)"
        click.echo(f"unusable: {', '.join(unusable)}{why}")
    sys.exit(1 if unusable else 0)


def _spec_origins(spec_path: str) -> dict[str, str]:
    """Load the spec (its plugins and declared datasets become this process's): origin -> shown."""
    from ribray.spec import load_spec

    spec = load_spec(spec_path)
    return {"ribray": "ribray"} | {p.source: f"plugin {p.source}" for p in spec._plugins} | \
        {f"datasets.{name}": f"spec datasets.{name}" for name in spec.datasets}


def _from_spec(spec_path: str, root: str | None) -> tuple[str, list[str], dict[str, str]]:
    """(data root, the spec's downstream + eval sets, its data.folders)."""
    from ribray.spec import load_spec

    spec = load_spec(spec_path)
    names = list(dict.fromkeys([*spec.downstream, *spec.resolved_eval_sets()]))
    return root or spec.data.root, names, dict(spec.data.folders)


@data.command()
@click.argument("root", required=False, type=click.Path(path_type=str))
@click.option("--spec", "spec_path", default=None, type=click.Path(exists=True, dir_okay=False),
              help="write every set the spec reads (its own datasets: and its plugins' too); ROOT defaults "
                   "to its data.root")
@click.option("--per-class", default=8, show_default=True, help="images per class")
@click.option("--classes", default=10, show_default=True, help="classes per dataset (the first K of each)")
@click.option("--size", default=48, show_default=True, help="image side in pixels")
@click.option("--datasets", default=None, help="comma-separated names (default: every layout)")
@click.option("--c-per-class", default=2, show_default=True,
              help="ImageNet-C images per class in each of its 75 corruption/severity folders")
@click.option("--seed", default=0, show_default=True)
def fake(root: str | None, spec_path: str | None, per_class: int, classes: int, size: int, datasets: str | None,
         c_per_class: int, seed: int) -> None:
    """Write small generated datasets in the real on-disk layouts under ROOT."""
    from ribray.data import DATASETS, dataset_folder, get_dataset
    from ribray.data.imagenet_c import can_corrupt

    folders = {}
    if spec_path:
        from ribray.spec import load_spec

        spec = load_spec(spec_path)
        names = datasets.split(",") if datasets else spec.datasets_read()
        root, folders = root or spec.data.root, dict(spec.data.folders) if root is None else {}
    else:
        if root is None:
            raise click.UsageError("give ROOT (where to write) or --spec")
        names = datasets.split(",") if datasets else _one_per_folder(DATASETS)
    if not datasets and "imagenet_c" in names and not can_corrupt():
        names.remove("imagenet_c")
        click.echo("imagenet_c skipped: its corruptions need the fakes extra (pip install 'ribray[fakes]')")
    for name in names:
        entry = get_dataset(name)
        per = c_per_class if name == "imagenet_c" else per_class
        folder = dataset_folder(root, name, folders)
        count = entry.write_fake(folder, per_class=per, classes=classes, seed=seed, size=size)
        click.echo(f"{name:<20} {count:>6} images in {folder}")


def _one_per_folder(registry) -> list[str]:
    """Every dataset, but one per folder (objectnet_reference reads objectnet's images)."""
    seen, names = set(), []
    for name, entry in registry.items():
        if entry.folder not in seen:
            seen.add(entry.folder)
            names.append(name)
    return names


@data.command("download-help")
def download_help() -> None:
    """Where each dataset comes from and the folder layout ribray expects (no downloads)."""
    from ribray.data import DATASETS

    click.echo(
        "ribray reads every dataset from one root folder (data.root in the spec); a dataset can\n"
        "live elsewhere with data.folders.<name> (a relative path is relative to the spec file).\n"
        "Nothing is downloaded for you: fetch each set from its source, then lay it out as shown.\n\n"
        "Unreadable images (truncated or corrupt files) never stop a sweep: each one is left out\n"
        "of its batch with a warning naming it, so n_images in the results falls short. Find them\n"
        "before a sweep with `ribray data check ROOT --verify-images` and replace them.\n")
    for name, entry in DATASETS.items():
        click.echo(f"{name} — {entry.title}: {entry.expected_images:,} images, scored {entry.scoring()}")
        click.echo(f"    layout under the data root: {entry.layout()}")
        click.echo(f"    source: {entry.source}\n")
