"""The ``extractor`` command: a thin Typer app over the library.

``commands`` holds the commands (``extract``, ``eval``, ``compare``, ``review``,
``agree``, ``adjudicate``, ``gold check``, ``export``, ``merge``, ``schema``),
``batch`` the provider batch sub-commands, and ``common`` the error handling
and flag-to-configuration helpers they share. Nothing in the library imports
this package.
"""

from extractor.cli.commands import app, main

__all__ = ["app", "main"]
