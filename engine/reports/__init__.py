"""Reports the committee sends upward, and calendar feeds.

How the package is built (a new report — the school case report — slots in the same way):

- :mod:`~engine.reports.asof` answers, for every report, what state each task was in at
  the end of the report's day, replaying the audit log and the recorded ladder steps in
  SQL and streaming one row per task (:func:`~engine.reports.asof.task_facts`).
- :mod:`~engine.reports.outcome` says what that state means: executed in time or late,
  overdue, the delay in working days, the escalation reached (:class:`Tally` adds up).
- One module per report — :mod:`~engine.reports.plan`, :mod:`~engine.reports.discipline`,
  :mod:`~engine.reports.public` — folds the facts and returns a neutral
  :class:`~engine.reports.model.Report`; what two reports show alike lives in
  :mod:`~engine.reports.common`.
- :mod:`engine.reports.render` turns any report into DOCX, XLSX, HTML or PDF by one code
  path; :mod:`~engine.reports.ics` writes iCalendar feeds.
- The doors call the use cases in :mod:`engine.app.reports`, which return finished bytes.
"""
