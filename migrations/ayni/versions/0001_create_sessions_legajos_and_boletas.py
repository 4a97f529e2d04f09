"""Create sessions, legajos and boletas

Revision ID: 0001
Revises:
Create Date: 2026-11-26 17:18:17.772703

"""

import sqlalchemy as sa
from alembic import op

import relying_party_demo.database

# revision identifiers, used by Alembic.
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "boletas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dni", sa.String(length=8), nullable=False),
        sa.Column("anio", sa.Integer(), nullable=False),
        sa.Column("mes", sa.Integer(), nullable=False),
        sa.Column("planilla", sa.String(length=40), nullable=False),
        sa.Column("regimen", sa.String(length=40), nullable=False),
        sa.Column("entidad", sa.String(length=80), nullable=False),
        sa.Column("codigo_plaza", sa.String(length=20), nullable=False),
        sa.Column("numero", sa.String(length=12), nullable=False),
        sa.Column("direccion_regional", sa.String(length=80), nullable=False),
        sa.Column("ruc_entidad", sa.String(length=11), nullable=False),
        sa.Column("fecha_pago", sa.Date(), nullable=True),
        sa.Column("apellidos", sa.String(length=120), nullable=False),
        sa.Column("nombres", sa.String(length=80), nullable=False),
        sa.Column("codigo_modular", sa.String(length=10), nullable=False),
        sa.Column("cargo", sa.String(length=80), nullable=False),
        sa.Column("tipo_servidor", sa.String(length=60), nullable=False),
        sa.Column("regimen_laboral", sa.String(length=40), nullable=False),
        sa.Column("escala", sa.String(length=40), nullable=False),
        sa.Column("jornada_horas", sa.Integer(), nullable=False),
        sa.Column("institucion", sa.String(length=120), nullable=False),
        sa.Column("codigo_modular_ie", sa.String(length=7), nullable=True),
        sa.Column("banco", sa.String(length=60), nullable=False),
        sa.Column("cuenta", sa.String(length=24), nullable=False),
        sa.Column("regimen_pensionario", sa.String(length=40), nullable=False),
        sa.Column("cuspp", sa.String(length=12), nullable=True),
        sa.Column("total_ingresos", sa.BigInteger(), nullable=False),
        sa.Column("total_descuentos", sa.BigInteger(), nullable=False),
        sa.Column("neto", sa.BigInteger(), nullable=False),
        sa.Column("monto_imponible", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at", relying_party_demo.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boletas")),
        sa.UniqueConstraint(
            "dni",
            "anio",
            "mes",
            "planilla",
            "regimen",
            "entidad",
            "codigo_plaza",
            name="uq_boletas_periodo",
        ),
    )
    with op.batch_alter_table("boletas", schema=None) as batch_op:
        batch_op.create_index("ix_boletas_dni_periodo", ["dni", "anio", "mes"], unique=False)

    op.create_table(
        "legajos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dni", sa.String(length=8), nullable=False),
        sa.Column("estado", sa.String(length=20), nullable=False),
        sa.Column("apellido_paterno", sa.String(length=60), nullable=False),
        sa.Column("apellido_materno", sa.String(length=60), nullable=False),
        sa.Column("nombres", sa.String(length=80), nullable=False),
        sa.Column("fecha_nacimiento", sa.Date(), nullable=True),
        sa.Column("sexo", sa.String(length=1), nullable=True),
        sa.Column("codigo_modular", sa.String(length=10), nullable=False),
        sa.Column("dre", sa.String(length=80), nullable=False),
        sa.Column("ugel", sa.String(length=80), nullable=False),
        sa.Column("regimen_pensionario", sa.String(length=40), nullable=False),
        sa.Column("cuspp", sa.String(length=12), nullable=True),
        sa.Column("formacion", sa.String(length=200), nullable=True),
        sa.Column(
            "updated_at", relying_party_demo.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legajos")),
        sa.UniqueConstraint("dni", name=op.f("uq_legajos_dni")),
    )
    op.create_table(
        "local_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("dni", sa.String(length=8), nullable=True),
        sa.Column("given_name", sa.String(length=120), nullable=True),
        sa.Column("family_name", sa.String(length=120), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("sid", sa.String(length=255), nullable=True),
        sa.Column("id_token", sa.Text(), nullable=True),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column(
            "access_token_expires_at",
            relying_party_demo.database.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "authenticated_at",
            relying_party_demo.database.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "created_at", relying_party_demo.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_seen_at", relying_party_demo.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "expires_at", relying_party_demo.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_sessions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_local_sessions_key_hash")),
    )
    with op.batch_alter_table("local_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_local_sessions_dni"), ["dni"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_local_sessions_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_local_sessions_sid"), ["sid"], unique=False)
        batch_op.create_index(batch_op.f("ix_local_sessions_subject"), ["subject"], unique=False)

    op.create_table(
        "boleta_conceptos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("boleta_id", sa.Integer(), nullable=False),
        sa.Column("tipo", sa.String(length=10), nullable=False),
        sa.Column("posicion", sa.Integer(), nullable=False),
        sa.Column("codigo", sa.String(length=30), nullable=False),
        sa.Column("descripcion", sa.String(length=160), nullable=False),
        sa.Column("monto", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["boleta_id"],
            ["boletas.id"],
            name=op.f("fk_boleta_conceptos_boleta_id_boletas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boleta_conceptos")),
    )
    with op.batch_alter_table("boleta_conceptos", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_boleta_conceptos_boleta_id"), ["boleta_id"], unique=False
        )

    op.create_table(
        "legajo_cargos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("legajo_id", sa.Integer(), nullable=False),
        sa.Column("posicion", sa.Integer(), nullable=False),
        sa.Column("cargo", sa.String(length=80), nullable=False),
        sa.Column("tipo_servidor", sa.String(length=60), nullable=False),
        sa.Column("regimen", sa.String(length=40), nullable=False),
        sa.Column("escala", sa.String(length=40), nullable=True),
        sa.Column("jornada_horas", sa.Integer(), nullable=False),
        sa.Column("institucion", sa.String(length=120), nullable=False),
        sa.Column("codigo_modular_ie", sa.String(length=7), nullable=True),
        sa.Column("nivel_modalidad", sa.String(length=60), nullable=True),
        sa.Column("entidad", sa.String(length=80), nullable=False),
        sa.Column("fecha_ingreso", sa.Date(), nullable=False),
        sa.Column("fecha_termino", sa.Date(), nullable=True),
        sa.Column("resolucion", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["legajo_id"],
            ["legajos.id"],
            name=op.f("fk_legajo_cargos_legajo_id_legajos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legajo_cargos")),
    )
    with op.batch_alter_table("legajo_cargos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legajo_cargos_legajo_id"), ["legajo_id"], unique=False)

    op.create_table(
        "legajo_movimientos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("legajo_id", sa.Integer(), nullable=False),
        sa.Column("fecha", sa.Date(), nullable=False),
        sa.Column("tipo", sa.String(length=60), nullable=False),
        sa.Column("descripcion", sa.String(length=200), nullable=False),
        sa.Column("resolucion", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["legajo_id"],
            ["legajos.id"],
            name=op.f("fk_legajo_movimientos_legajo_id_legajos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legajo_movimientos")),
    )
    with op.batch_alter_table("legajo_movimientos", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_legajo_movimientos_legajo_id"), ["legajo_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("legajo_movimientos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legajo_movimientos_legajo_id"))

    op.drop_table("legajo_movimientos")
    with op.batch_alter_table("legajo_cargos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legajo_cargos_legajo_id"))

    op.drop_table("legajo_cargos")
    with op.batch_alter_table("boleta_conceptos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_boleta_conceptos_boleta_id"))

    op.drop_table("boleta_conceptos")
    with op.batch_alter_table("local_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_local_sessions_subject"))
        batch_op.drop_index(batch_op.f("ix_local_sessions_sid"))
        batch_op.drop_index(batch_op.f("ix_local_sessions_expires_at"))
        batch_op.drop_index(batch_op.f("ix_local_sessions_dni"))

    op.drop_table("local_sessions")
    op.drop_table("legajos")
    with op.batch_alter_table("boletas", schema=None) as batch_op:
        batch_op.drop_index("ix_boletas_dni_periodo")

    op.drop_table("boletas")
