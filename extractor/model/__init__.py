"""Talking to a model.

``base`` is the one seam (``ModelClient.complete``, ``Usage``,
``Completion``); ``openai`` is Instructor over the ``openai`` client;
``embedded`` runs the llama.cpp server on 127.0.0.1; ``retry`` is the
transport retry policy and ``pricing`` the price table; ``connect`` picks
the client for a configuration. This wing never imports extraction,
evaluation, io or review.
"""
