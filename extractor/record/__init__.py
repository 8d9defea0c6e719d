"""The record and what belongs to it alone.

``schema`` is the case-report record of ``shared/spec/case-record.md`` as
Pydantic models; ``grounding`` aligns its evidence quotes to the document
text; ``matching`` holds the comparators, item keys and the one-to-one
patient pairing that extraction (merging chunks), scoring and review all use.
This wing imports only the top-level base modules (config, errors, hashing).
"""
