"""``python -m extractor.cli``: the command line."""

from extractor.cli.app import main

main()
