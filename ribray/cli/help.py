"""Help pages that show each command's whole first sentence (click cuts it to fit one line)."""

from __future__ import annotations

import click


class FullHelpGroup(click.Group):
    """A group whose command list wraps each command's first sentence instead of cutting it
    with "..." at the terminal's width."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
