"""Every AYNI_SERVIDOR model, imported so Alembic sees every table."""

from relying_party_demo.auth.models import LocalSession
from relying_party_demo.boletas.models import Boleta
from relying_party_demo.boletas.models import BoletaConcepto
from relying_party_demo.legajo.models import Legajo
from relying_party_demo.legajo.models import LegajoCargo
from relying_party_demo.legajo.models import LegajoMovimiento

__all__ = [
    "Boleta",
    "BoletaConcepto",
    "Legajo",
    "LegajoCargo",
    "LegajoMovimiento",
    "LocalSession",
]
