"""Looking at a run as a person would.

``data`` gathers what a reviewer sees of each document (text, evidence
spans, record, gold side by side); ``page`` renders it into one offline HTML
file from the templates in ``assets/``. ``app`` is the adjudication app, a
local Starlette page and API where a reviewer corrects a run's records;
``labels`` writes them into a gold folder (validated, atomic, conflict-checked,
audited) and ``form`` describes the record's fields to the page. This wing
sits on top: it may use every other wing, and none imports it.
"""
