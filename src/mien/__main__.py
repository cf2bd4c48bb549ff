"""``python -m mien`` is the ``mien`` command."""

from mien.cli.main import main

main()
