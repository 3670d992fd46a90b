"""PDF through a converter installed on the machine; Python has no faithful one of its own.

Two are known, chosen by ``reports.pdf_converter``:

- ``libreoffice``: ``soffice --headless --convert-to pdf`` of the Word document — keeps
  the committee's letterhead template;
- ``chromium``: Chromium's ``--print-to-pdf`` of the HTML report (landscape A4 by the
  page's ``@page`` rule).

``auto`` takes LibreOffice when it is installed, else Chromium. Neither installed: a
Russian message says what to install, or which other format to take.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from engine.core.errors import MeasuresError

Converter = Literal["auto", "libreoffice", "chromium"]
_PROGRAMS = {
    "libreoffice": ("soffice", "libreoffice"),
    "chromium": ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"),
}
_INSTALL = {
    "libreoffice": "LibreOffice (apt-get install libreoffice-writer)",
    "chromium": "Chromium (apt-get install chromium)",
}
TIMEOUT = 180  # seconds; a first LibreOffice start builds its profile
#: Headless Chromium as a server runs it: as root (no sandbox), no GPU, and no calls home.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


class PdfUnavailable(MeasuresError):
    """No converter for PDF on this machine."""


@dataclass(frozen=True)
class Found:
    kind: Literal["libreoffice", "chromium"]
    program: str


def find_converter(choice: Converter) -> Found:
    """The converter to use, or a Russian message saying what to install."""
    kinds: tuple[Literal["libreoffice", "chromium"], ...] = (
        ("libreoffice", "chromium") if choice == "auto" else (choice,)
    )
    for kind in kinds:
        for name in _PROGRAMS[kind]:
            program = shutil.which(name)
            if program:
                return Found(kind, program)
    wanted = " или ".join(_INSTALL[k] for k in kinds)
    raise PdfUnavailable(
        f"Для PDF нужна программа-конвертер, а на этом компьютере её нет: установите {wanted} "
        f'(настройка reports.pdf_converter = "{choice}"), либо возьмите отчёт в формате '
        "docx или html и сохраните его в PDF сами."
    )


def render_pdf(found: Found, docx: Callable[[], bytes], html: Callable[[], str]) -> bytes:
    """Convert the report: LibreOffice from its DOCX, Chromium from its HTML."""
    with tempfile.TemporaryDirectory(prefix="measures-pdf-") as folder:
        work = Path(folder)
        if found.kind == "libreoffice":
            source = work / "report.docx"
            source.write_bytes(docx())
            command = [
                found.program,
                f"-env:UserInstallation={(work / 'profile').as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                str(work),
                str(source),
            ]
        else:
            source = work / "report.html"
            source.write_text(html(), encoding="utf-8")
            command = [
                found.program,
                "--headless",
                *CHROMIUM_FLAGS,
                f"--user-data-dir={work / 'profile'}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={work / 'report.pdf'}",
                source.as_uri(),
            ]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                timeout=TIMEOUT,
                env={**os.environ, "HOME": str(work)},
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise MeasuresError(
                f"PDF: {found.program} не ответил за {TIMEOUT} с; отчёт в PDF не создан."
            ) from None
        target = work / "report.pdf"
        if not target.exists() or not target.read_bytes().startswith(b"%PDF"):
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise MeasuresError(
                f"PDF: {found.program} завершился с кодом {done.returncode} и не создал файл"
                + (f": {' / '.join(tail)}" if tail else ".")
            )
        return target.read_bytes()
