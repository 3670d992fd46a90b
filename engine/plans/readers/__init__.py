"""Plan documents → the neutral :class:`~engine.plans.readers.document.SourceDocument`.

``readers.read_document`` picks the reader by file type: text tables as exported from
Word (``text_table``), DOCX (``docx_table``), XLSX and CSV in the template (``sheet``),
PDF with a text layer (``pdf_table``), OpenDocument text (``odt_table``). All of them
produce blocks that ``tables.assemble`` turns into rows, sections and metadata, so every
format imports to the same result.
"""
