"""`python -m ribray` runs the CLI."""

from ribray.cli import main

main()
