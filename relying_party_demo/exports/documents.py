"""PDFs (reportlab): one boleta as a printed pay slip, and the filtered list as a table."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.pagesizes import landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph
from reportlab.platypus import SimpleDocTemplate
from reportlab.platypus import Spacer
from reportlab.platypus import Table
from reportlab.platypus import TableStyle

from relying_party_demo.boletas.models import APORTE
from relying_party_demo.boletas.models import DESCUENTO
from relying_party_demo.boletas.models import INGRESO
from relying_party_demo.boletas.models import Boleta
from relying_party_demo.boletas.money import format_amount
from relying_party_demo.boletas.money import format_soles
from relying_party_demo.boletas.periods import month_name
from relying_party_demo.boletas.periods import period_label
from relying_party_demo.exports.titles import ExportTitle
from relying_party_demo.exports.titles import lima_time

NAVY = colors.HexColor("#1F3864")
LIGHT = colors.HexColor("#E8EDF5")
GRID = colors.HexColor("#9AA5B8")

TITLE = ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=13, alignment=TA_CENTER)
SUBTITLE = ParagraphStyle("subtitle", fontName="Helvetica", fontSize=8.5, alignment=TA_CENTER)
LABEL = ParagraphStyle("label", fontName="Helvetica-Bold", fontSize=7.5, leading=9)
VALUE = ParagraphStyle("value", fontName="Helvetica", fontSize=7.5, leading=9)
LINE = ParagraphStyle("line", fontName="Helvetica", fontSize=7, leading=8.5)
SMALL = ParagraphStyle("small", fontName="Helvetica-Oblique", fontSize=7, leading=9)
HEAD = ParagraphStyle(
    "head", fontName="Helvetica-Bold", fontSize=8, textColor=colors.white, alignment=TA_CENTER
)


def text(value: object, style: ParagraphStyle = VALUE) -> Paragraph:
    """A wrapped, escaped cell."""
    return Paragraph(escape(str(value if value is not None else "-")), style)


def boleta_pdf(boleta: Boleta, generated_at: datetime) -> bytes:
    """The pay slip on one A4 page: header block, three columns, totals, generation time."""
    output = io.BytesIO()
    document = SimpleDocTemplate(
        output,
        pagesize=A4,
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=f"Boleta de pago {period_label(boleta.anio, boleta.mes)}",
        author="AYNI_SERVIDOR",
    )
    width = document.width
    story: list[object] = [
        Paragraph(f"BOLETA DE PAGO N° {escape(boleta.numero)}", TITLE),
        Spacer(1, 2 * mm),
        Paragraph(
            "<br/>".join(
                escape(part)
                for part in (
                    boleta.direccion_regional,
                    boleta.entidad,
                    f"RUC - {boleta.ruc_entidad}",
                    f"{month_name(boleta.mes)} - {boleta.anio}   ·   {boleta.planilla}",
                )
            ),
            SUBTITLE,
        ),
        Spacer(1, 4 * mm),
    ]
    pairs = [
        ("Apellidos y nombres", f"{boleta.apellidos}, {boleta.nombres}"),
        ("Documento de identidad", f"DNI {boleta.dni}"),
        ("Código modular", boleta.codigo_modular),
        ("Cargo", boleta.cargo),
        ("Tipo de servidor", boleta.tipo_servidor),
        ("Régimen laboral", boleta.regimen_laboral),
        ("Escala / nivel", boleta.escala),
        ("Jornada laboral", f"{boleta.jornada_horas} horas"),
        ("Institución educativa", boleta.institucion),
        ("Código modular IE", boleta.codigo_modular_ie),
        ("UGEL", boleta.entidad),
        ("Banco / cuenta", f"{boleta.banco} {boleta.cuenta}"),
        ("Régimen pensionario", boleta.regimen_pensionario),
        ("CUSPP", boleta.cuspp),
        ("Periodo", period_label(boleta.anio, boleta.mes)),
        ("Fecha de pago", boleta.fecha_pago.strftime("%d/%m/%Y") if boleta.fecha_pago else None),
    ]
    header_rows = []
    for index in range(0, len(pairs), 2):
        row: list[object] = []
        for label, value in pairs[index : index + 2]:
            row += [text(label, LABEL), text(value)]
        header_rows.append(row)
    header = Table(header_rows, colWidths=[width * 0.17, width * 0.33] * 2)
    header.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.6, NAVY),
                ("BACKGROUND", (0, 0), (0, -1), LIGHT),
                ("BACKGROUND", (2, 0), (2, -1), LIGHT),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    story += [header, Spacer(1, 4 * mm)]

    columns = [boleta.lines(INGRESO), boleta.lines(DESCUENTO), boleta.lines(APORTE)]
    heads = ["INGRESOS", "DESCUENTOS", "APORTES DEL EMPLEADOR"]
    rows: list[list[object]] = [[]]
    for head in heads:
        rows[0] += [Paragraph(head, HEAD), ""]
    for index in range(max(len(column) for column in columns)):
        row = []
        for column in columns:
            if index < len(column):
                line = column[index]
                row += [
                    Paragraph(f"<b>{escape(line.codigo)}</b> {escape(line.descripcion)}", LINE),
                    text(format_amount(line.monto), LINE),
                ]
            else:
                row += ["", ""]
        rows.append(row)
    totals = [
        ("T-REMUN", boleta.total_ingresos),
        ("T-DSCTO", boleta.total_descuentos),
        ("T-APORT", boleta.total_aportes),
    ]
    total_row: list[object] = []
    for label, amount in totals:
        total_row += [text(label, LABEL), text(format_amount(amount), LABEL)]
    rows.append(total_row)
    concept_width = width / 3 - 18 * mm
    lines_table = Table(rows, colWidths=[concept_width, 18 * mm] * 3, repeatRows=1)
    lines_table.setStyle(
        TableStyle(
            [
                ("SPAN", (0, 0), (1, 0)),
                ("SPAN", (2, 0), (3, 0)),
                ("SPAN", (4, 0), (5, 0)),
                ("BACKGROUND", (0, 0), (-1, 0), NAVY),
                ("BOX", (0, 0), (-1, -1), 0.6, NAVY),
                ("LINEAFTER", (1, 0), (1, -1), 0.6, NAVY),
                ("LINEAFTER", (3, 0), (3, -1), 0.6, NAVY),
                ("LINEABOVE", (0, -1), (-1, -1), 0.6, NAVY),
                ("BACKGROUND", (0, -1), (-1, -1), LIGHT),
                ("ALIGN", (1, 1), (1, -1), "RIGHT"),
                ("ALIGN", (3, 1), (3, -1), "RIGHT"),
                ("ALIGN", (5, 1), (5, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [lines_table, Spacer(1, 4 * mm)]

    summary = Table(
        [
            [
                text("TOTAL REMUNERACIÓN (T-REMUN)", LABEL),
                text(format_soles(boleta.total_ingresos), LABEL),
                text("MONTO IMPONIBLE", LABEL),
                text(format_soles(boleta.monto_imponible), LABEL),
            ],
            [
                text("TOTAL DESCUENTO (T-DSCTO)", LABEL),
                text(format_soles(boleta.total_descuentos), LABEL),
                text("TOTAL LÍQUIDO (T-LIQUI)", LABEL),
                text(format_soles(boleta.neto), LABEL),
            ],
        ],
        colWidths=[width * 0.3, width * 0.2] * 2,
    )
    summary.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.8, NAVY),
                ("BACKGROUND", (2, 1), (3, 1), LIGHT),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("ALIGN", (3, 0), (3, -1), "RIGHT"),
            ]
        )
    )
    story += [
        summary,
        Spacer(1, 5 * mm),
        Paragraph(
            escape(
                f"Documento generado por AYNI - Sistema integrado de gestión de personal en el "
                f"sector educación, el {lima_time(generated_at)} (hora de Lima). "
                f"Neto = T-REMUN − T-DSCTO. Los aportes del empleador no se descuentan."
            ),
            SMALL,
        ),
    ]
    document.build(story)
    return output.getvalue()


def boletas_table_pdf(boletas: Sequence[Boleta], title: ExportTitle) -> bytes:
    """Exportar en Pdf: the filtered list as a table (landscape A4, header on every page)."""
    output = io.BytesIO()
    document = SimpleDocTemplate(
        output,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=title.text,
        author="AYNI_SERVIDOR",
    )
    story: list[object] = [
        Paragraph(escape(title.text), TITLE),
        Spacer(1, 1 * mm),
        Paragraph(escape(title.generated), SUBTITLE),
        Spacer(1, 4 * mm),
    ]
    if not boletas:
        story.append(Paragraph("No se encontraron boletas para el filtro elegido.", VALUE))
        document.build(story)
        return output.getvalue()
    heads = (
        "Periodo",
        "Tipo de régimen",
        "Entidad",
        "Cargo",
        "Monto bruto",
        "Total descuentos",
        "Neto",
    )
    rows: list[list[object]] = [[Paragraph(head, HEAD) for head in heads]]
    for boleta in boletas:
        rows.append(
            [
                period_label(boleta.anio, boleta.mes),
                boleta.regimen,
                boleta.entidad,
                boleta.cargo[:40],
                format_soles(boleta.total_ingresos),
                format_soles(boleta.total_descuentos),
                format_soles(boleta.neto),
            ]
        )
    rows.append(
        [
            "Totales",
            "",
            "",
            "",
            format_soles(sum(b.total_ingresos for b in boletas)),
            format_soles(sum(b.total_descuentos for b in boletas)),
            format_soles(sum(b.neto for b in boletas)),
        ]
    )
    widths = [34 * mm, 32 * mm, 50 * mm, 66 * mm, 30 * mm, 30 * mm, 30 * mm]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), NAVY),
                ("FONTNAME", (0, 1), (-1, -1), "Helvetica"),
                ("FONTSIZE", (0, 1), (-1, -1), 8),
                ("ROWBACKGROUNDS", (0, 1), (-1, -2), [colors.white, LIGHT]),
                ("GRID", (0, 0), (-1, -1), 0.3, GRID),
                ("ALIGN", (4, 1), (-1, -1), "RIGHT"),
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, NAVY),
            ]
        )
    )
    story.append(table)
    document.build(story)
    return output.getvalue()
