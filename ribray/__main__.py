"""`python -m ribray` runs the CLI."""

from ribray.cli import main

if __name__ == "__main__":  # not when a spawned process (report figures) re-imports this module
    main()
