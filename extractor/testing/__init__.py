"""Test doubles for code built on extractor: no model, no network.

``FakeClient`` answers from a queue and records every request; ``minimal_record``
is a small valid record to answer with; ``stub_server`` (in
``extractor.testing.stub_server``) is an OpenAI-compatible HTTP server on
127.0.0.1 that injects faults, for tests and benchmarks of the real client.
This package may import any wing; nothing in the library imports it.
"""

from extractor.testing.fake import FakeClient, FakeRequest, minimal_record

__all__ = ["FakeClient", "FakeRequest", "minimal_record"]
