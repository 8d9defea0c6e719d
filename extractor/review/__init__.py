"""Looking at a run as a person would.

``data`` gathers what a reviewer sees of each document (text, evidence
spans, record, gold side by side); ``page`` renders it into one offline HTML
file from the templates in ``assets/``. This wing sits on top: it may use
every other wing, and none imports it.
"""
