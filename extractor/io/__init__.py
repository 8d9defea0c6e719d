"""Inputs and run files.

``documents`` reads case reports (text, Markdown, JSON, HTML through
``html``, PDF, JSONL corpora, and JATS and PubMed XML and PMC packages
through ``xmlstream``, ``jats`` and ``pubmed``) into ``Document``s, with
their ``sections`` and the ``metadata`` the input states (``files`` says which
entries are read and decodes plain text); ``runfile`` defines the
run-file line and is the only place that writes and reads it; ``export``
turns a run into a table and ``merge`` combines runs. This wing imports
record and the model's value types, never extraction, evaluation or review.
"""
