"""From a document to a record, then many.

``prompts`` loads prompt versions, ``strategies`` decides how a record is
asked for, ``chunking`` splits long documents and merges their records,
``cache`` and ``limits`` keep answers and rates, ``document`` turns one
document into one run-file line, and ``bulk`` runs many concurrently into a
run file; ``distributed`` sends a run's cache misses to Ray workers (Ray is
imported there only, when asked for). This wing uses record, model and io;
it never imports evaluation or review.
"""
