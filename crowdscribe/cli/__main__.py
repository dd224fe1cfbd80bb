"""``python -m crowdscribe.cli``: the ``crowdscribe`` command, without the console script."""

from crowdscribe.cli import main

main()
