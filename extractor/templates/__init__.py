"""The record templates shipped with extractor.

A template is a Pydantic model whose fields declare, with the markers of
``extractor.record.markers``, how they are found, compared and quoted. The
framework reads only those markers (``extractor.record.template``); the
field names belong to the template alone.

- ``extractor.templates.nen:CaseReport``: the neuroendocrine-neoplasm record
  of ``shared/spec/case-record.md`` (the default);
- ``extractor.templates.case:CaseRecord``: a generic case-report record
  (age, sex, country, diagnosis and treatments as stated).
"""
