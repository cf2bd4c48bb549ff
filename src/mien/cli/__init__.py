"""The ``mien`` command line, one module per command."""
