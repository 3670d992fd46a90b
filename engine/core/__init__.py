"""The small core every other part stands on: tables, database, settings, clock, calendar, errors.

Nothing here imports from the rest of ``engine``: the domain packages (plans, lifecycle,
escalation, directory) depend on the core, never the other way round.
"""
