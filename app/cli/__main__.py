"""``python -m app.cli``: the ``crowdscribe`` command, without the console script."""

from app.cli import main

main()
