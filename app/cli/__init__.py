"""The ``crowdscribe`` command. Its entry imports almost nothing: with a warm process up for the
data home (``crowdscribe prefect up``) a flow command runs in a fork of it (``warm_client``),
else every command runs here (``app.cli.commands``)."""

from __future__ import annotations


def main() -> None:
    """Entry point of the ``crowdscribe`` script."""
    from app.cli import warm_client

    warm_client.run_if_warm()
    from app.cli import commands

    commands.main()
