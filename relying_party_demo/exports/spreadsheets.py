"""Exportar en Excel: the filtered boletas as a real ``.xlsx`` (openpyxl)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.styles import Font
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter

from relying_party_demo.boletas.models import Boleta
from relying_party_demo.boletas.money import to_decimal
from relying_party_demo.boletas.periods import period_label
from relying_party_demo.exports.titles import ExportTitle

# Excel shows "S/ 4,220.77" (the file's locale decides the separators on screen).
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


def boletas_workbook(boletas: Sequence[Boleta], title: ExportTitle) -> bytes:
    """Build the workbook: title rows, a frozen header, numeric soles cells, totals."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Boletas"
    sheet["A1"] = title.text
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"] = title.generated
    sheet["A2"].font = Font(italic=True, size=9)
    header_fill = PatternFill("solid", fgColor="1F3864")
    for column, (label, width) in enumerate(zip(HEADERS, WIDTHS, strict=True), start=1):
        cell = sheet.cell(row=HEADER_ROW, column=column, value=label)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(column)].width = width
    row = FIRST_DATA_ROW
    for boleta in boletas:
        values = (
            period_label(boleta.anio, boleta.mes),
            boleta.anio,
            boleta.mes,
            boleta.regimen,
            boleta.entidad,
            boleta.cargo,
            to_decimal(boleta.total_ingresos),
            to_decimal(boleta.total_descuentos),
            to_decimal(boleta.neto),
        )
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=column, value=value)
            if column >= 7:
                cell.number_format = SOLES_FORMAT
        row += 1
    if boletas:
        sheet.cell(row=row, column=6, value="Totales").font = Font(bold=True)
        for column, name in ((7, "total_ingresos"), (8, "total_descuentos"), (9, "neto")):
            total = sum(getattr(boleta, name) for boleta in boletas)
            cell = sheet.cell(row=row, column=column, value=to_decimal(total))
            cell.number_format = SOLES_FORMAT
            cell.font = Font(bold=True)
    else:
        sheet.cell(row=FIRST_DATA_ROW, column=1, value="No se encontraron boletas.")
    sheet.freeze_panes = sheet.cell(row=FIRST_DATA_ROW, column=1)
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(HEADERS))}{HEADER_ROW}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
