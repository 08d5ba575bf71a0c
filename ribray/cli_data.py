"""`ribray data ...`: list, check and generate the benchmark's datasets (no downloads)."""

from __future__ import annotations

import sys

import click

DEFAULT_FAKE = ("imagenet_val", "imagenet_r", "imagenet_a", "imagenet_sketch", "imagenet_v2",
                "objectnet", "imagenet_cartoon", "imagenet_drawing", "imagenet_c")


@click.group()
def data() -> None:
    """The benchmark's datasets: list, check, generate fakes, where to get them."""


@data.command("list")
def list_datasets() -> None:
    """Every dataset ribray knows, its classes, expected size and default folder."""
    from ribray.data import DATASETS

    click.echo(f"{'name':<20} {'classes':>7} {'images':>10}  folder under the data root")
    for name, entry in DATASETS.items():
        click.echo(f"{name:<20} {entry.num_classes:>7} {entry.expected_images:>10,}  {entry.folder}")


@data.command()
@click.argument("root", type=click.Path(path_type=str))
@click.option("--datasets", default=None, help="comma-separated names (default: every dataset found)")
@click.option("--verify-images", is_flag=True, help="decode every image (slow on real data)")
def check(root: str, datasets: str | None, verify_images: bool) -> None:
    """Report, per dataset under ROOT: found / missing / wrong counts / unreadable files."""
    from ribray.data import DATASETS
    from ribray.data.check import check_datasets

    names = datasets.split(",") if datasets else DATASETS.names()
    results = check_datasets(root, names, verify_images=verify_images)
    for result in results:
        if not result.found and not datasets:
            continue
        status = "ok" if result.usable else ("missing" if not result.found else "PROBLEM")
        click.echo(f"{result.name:<20} {status:<8} {result.images:>9,} images  {result.path}")
        for problem in result.problems:
            click.echo(f"    - {problem}")
    named_unusable = [r for r in results if datasets and not r.usable]
    if not any(r.found for r in results):
        click.echo(f"no dataset found under {root}; see `ribray data download-help`")
    sys.exit(1 if named_unusable else 0)


@data.command()
@click.argument("root", type=click.Path(path_type=str))
@click.option("--per-class", default=8, show_default=True, help="images per class")
@click.option("--classes", default=10, show_default=True, help="classes per dataset (the first K of each)")
@click.option("--size", default=40, show_default=True, help="image side in pixels")
@click.option("--datasets", default=",".join(DEFAULT_FAKE), show_default=True, help="comma-separated names")
@click.option("--c-per-class", default=2, show_default=True,
              help="ImageNet-C images per class per corruption and severity (75 parts)")
def fake(root: str, per_class: int, classes: int, size: int, datasets: str, c_per_class: int) -> None:
    """Write small generated datasets in the real on-disk layouts under ROOT."""
    from pathlib import Path

    from ribray.data import DATASETS, get_dataset

    for name in datasets.split(","):
        if name not in DATASETS:
            get_dataset(name)  # raises with a did-you-mean
        entry = get_dataset(name)
        count = entry.write_fake(entry.path(Path(root)), classes=classes, size=size,
                                 per_class=c_per_class if name == "imagenet_c" else per_class)
        click.echo(f"{name:<20} {count:>6} images in {entry.path(Path(root))}")


@data.command("download-help")
def download_help() -> None:
    """Where each dataset comes from and the folder layout ribray expects (no downloads)."""
    from ribray.data import DATASETS

    click.echo("ribray reads every dataset from one root folder (data.root in the spec); a dataset\n"
               "can live elsewhere with data.folders.<name>. Unreadable images are skipped with a\n"
               "warning at run time; `ribray data check ROOT --verify-images` finds them beforehand.\n")
    for name, entry in DATASETS.items():
        click.echo(f"{name} ({entry.title}, {entry.expected_images:,} images): <root>/{entry.folder}")
        click.echo(f"    {entry.source}\n")
