"""Plan documents → Plan, Sections, Measures and Tasks.

Today: the CSV template (:mod:`engine.importers.csv_template`). The text-table, DOCX and
XLSX importers and the Russian deadline grammar come with issue 3.
"""
