"""``python -m extractor.cli``: the command line."""

from extractor.cli.commands import main

main()
