"""How right the records are.

``gold`` loads and checks hand-labelled gold sets, ``scoring`` scores a
record field by field as the spec says, ``evaluate`` scores a run (and can
extract the gold documents first), ``compare`` contrasts two evaluations
with bootstrap intervals, ``leaderboard`` keeps one row per evaluation, and
``agree`` compares runs of the same documents (agreement, triage, and the
accuracy of agreed against disagreed values).
This wing may use extraction and io; extraction never imports it.
"""
