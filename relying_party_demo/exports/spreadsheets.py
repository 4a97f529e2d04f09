"""Exportar en Excel: the filtered boletas as a real ``.xlsx`` (openpyxl, write-only mode).

Every text goes through ``cell()``: a string cell, neutralised (cells.py), never a formula.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment
from openpyxl.styles import Font
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter

from relying_party_demo.boletas.models import Boleta
from relying_party_demo.boletas.money import to_decimal
from relying_party_demo.boletas.periods import period_label
from relying_party_demo.exports.cells import neutralise
from relying_party_demo.exports.titles import ExportTitle

# Excel shows "S/ 4,220.77" (the reader's locale decides the separators on screen).
SOLES_FORMAT = '"S/" #,##0.00'
HEADERS = (
    "Periodo",
    "Año",
    "Mes",
    "Tipo de régimen",
    "Entidad",
    "Cargo",
    "Monto bruto",
    "Total descuentos",
    "Neto",
)
WIDTHS = (18, 7, 6, 18, 26, 28, 15, 17, 15)
HEADER_ROW = 4
FIRST_DATA_ROW = HEADER_ROW + 1
FIRST_AMOUNT_COLUMN = 7
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)
BOLD = Font(bold=True)


def boletas_workbook(boletas: Sequence[Boleta], title: ExportTitle) -> bytes:
    """Build the workbook: title rows, a frozen header, numeric soles cells, totals."""
    # Write-only mode streams rows: several times faster for long exports.
    workbook = Workbook(write_only=True)
    sheet: Any = workbook.create_sheet("Boletas")
    for column, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = f"A{FIRST_DATA_ROW}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"

    def cell(value: object, *, font: Font | None = None, soles: bool = False) -> WriteOnlyCell:
        if isinstance(value, str):
            # Always a string cell, never a formula, whatever the text (cells.py).
            written = WriteOnlyCell(sheet, value=neutralise(value))
            written.data_type = "s"
        else:
            written = WriteOnlyCell(sheet, value=value)
        if font is not None:
            written.font = font
        if soles:
            written.number_format = SOLES_FORMAT
        return written

    sheet.append([cell(title.text, font=Font(bold=True, size=13))])
    sheet.append([cell(title.generated, font=Font(italic=True, size=9))])
    sheet.append([])
    headers = []
    for label in HEADERS:
        header = cell(label, font=HEADER_FONT)
        header.fill = HEADER_FILL
        header.alignment = HEADER_ALIGNMENT
        headers.append(header)
    sheet.append(headers)
    for boleta in boletas:
        sheet.append(
            [
                cell(period_label(boleta.anio, boleta.mes)),
                cell(boleta.anio),
                cell(boleta.mes),
                cell(boleta.regimen),
                cell(boleta.entidad),
                cell(boleta.cargo),
                cell(to_decimal(boleta.total_ingresos), soles=True),
                cell(to_decimal(boleta.total_descuentos), soles=True),
                cell(to_decimal(boleta.neto), soles=True),
            ]
        )
    if boletas:
        totals: list[object] = [None] * (FIRST_AMOUNT_COLUMN - 2)
        totals.append(cell("Totales", font=BOLD))
        for name in ("total_ingresos", "total_descuentos", "neto"):
            total = sum(getattr(boleta, name) for boleta in boletas)
            totals.append(cell(to_decimal(total), font=BOLD, soles=True))
        sheet.append(totals)
    else:
        sheet.append([cell("No se encontraron boletas.")])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
