"""Time AYNI_SERVIDOR's exports (xlsx, PDF table, one boleta PDF) for hundreds of rows.

    .venv/bin/python -m benchmarks.ayni_exports [--rows 100 300 600 1200] [--repeat 5]

Builds boletas in memory (the demo generator, no database) and times the same functions the
views call. Prints one line per size: median and worst milliseconds and the output size.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC
from datetime import datetime

from relying_party_demo import create_app
from relying_party_demo.boletas.models import Boleta
from relying_party_demo.boletas.models import BoletaConcepto
from relying_party_demo.boletas.records import BoletaRecord
from relying_party_demo.boletas.records import mask_account
from relying_party_demo.boletas.services import BoletaFilter
from relying_party_demo.demo_data import boletas_of
from relying_party_demo.demo_data import demo_people
from relying_party_demo.demo_data import generic_person
from relying_party_demo.exports.documents import boleta_pdf
from relying_party_demo.exports.documents import boletas_table_pdf
from relying_party_demo.exports.spreadsheets import boletas_workbook
from relying_party_demo.exports.titles import ExportTitle


def as_model(record: BoletaRecord, identifier: int) -> Boleta:
    """A transient Boleta (never added to a session) with its lines."""
    boleta = Boleta(
        id=identifier,
        **{
            name: getattr(record, name)
            for name in [
                "dni",
                "anio",
                "mes",
                "planilla",
                "regimen",
                "entidad",
                "codigo_plaza",
                "numero",
                "direccion_regional",
                "ruc_entidad",
                "fecha_pago",
                "apellidos",
                "nombres",
                "codigo_modular",
                "cargo",
                "tipo_servidor",
                "regimen_laboral",
                "escala",
                "jornada_horas",
                "institucion",
                "codigo_modular_ie",
                "banco",
                "regimen_pensionario",
                "cuspp",
                "monto_imponible",
            ]
        },
    )
    boleta.cuenta = mask_account(record.cuenta)
    boleta.total_ingresos = record.total_ingresos
    boleta.total_descuentos = record.total_descuentos
    boleta.neto = record.neto
    boleta.conceptos = [
        BoletaConcepto(
            tipo=line.tipo,
            posicion=i,
            codigo=line.codigo,
            descripcion=line.descripcion,
            monto=line.monto,
        )
        for i, line in enumerate(record.conceptos)
    ]
    return boleta


def sample_boletas(count: int) -> list[Boleta]:
    """``count`` realistic boletas (demo people, then generic ones), newest first."""
    people = list(demo_people().values())
    dni = 41000000
    records: list[BoletaRecord] = []
    while len(records) < count:
        person = people.pop(0) if people else generic_person(str(dni))
        dni += 1
        records += boletas_of(person)
    records = records[:count]
    records.sort(key=lambda r: (r.anio, r.mes), reverse=True)
    return [as_model(record, index) for index, record in enumerate(records, start=1)]


def timed(action: Callable[[], bytes], repeat: int) -> tuple[float, float, int]:
    """(median ms, worst ms, bytes) over ``repeat`` runs after one warm-up."""
    size = len(action())
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples), size


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100, 300, 600, 1200])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    app = create_app(overrides={"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    title = ExportTitle(
        "QUISPE HUAMAN, ROSA ELENA", "40000001", BoletaFilter(None, None), datetime.now(UTC)
    )
    with app.app_context():
        print(f"{'rows':>6} {'export':<12} {'median ms':>10} {'worst ms':>9} {'bytes':>9}")
        for count in args.rows:
            boletas = sample_boletas(count)
            for name, action in (
                ("xlsx", lambda b=boletas: boletas_workbook(b, title)),
                ("pdf table", lambda b=boletas: boletas_table_pdf(b, title)),
            ):
                median, worst, size = timed(action, args.repeat)
                print(f"{count:>6} {name:<12} {median:>10.1f} {worst:>9.1f} {size:>9}")
        one = sample_boletas(1)[0]
        median, worst, size = timed(lambda: boleta_pdf(one, datetime.now(UTC)), args.repeat)
        print(f"{1:>6} {'boleta pdf':<12} {median:>10.1f} {worst:>9.1f} {size:>9}")


if __name__ == "__main__":
    main()
