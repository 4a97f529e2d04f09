"""The console's bulk import: upload a CSV, read the preview, confirm, follow the mails."""

from __future__ import annotations

from flask import Request
from flask import abort
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from passport.accounts.administration import is_reason_required
from passport.accounts.errors import InvalidImportError
from passport.accounts.errors import ReasonRequiredError
from passport.accounts.errors import RowError
from passport.accounts.mail_queue import drain_after_response
from passport.accounts.territory import Refusal
from passport.admin import staging
from passport.admin.acting import admin_action
from passport.admin.blueprint import bp
from passport.admin.forms import ImportForm
from passport.admin.forms import ReasonForm
from passport.admin.guard import current_admin
from passport.admin.users import FIELD_MESSAGES
from passport.errors import render_error

# Spanish for the import parser's file-level reasons (matched by their English start).
REASONS = (
    ("the file is not UTF-8", _l("El archivo no está en UTF-8: guárdelo como «CSV UTF-8».")),
    ("the file is empty", _l("El archivo está vacío: se espera una fila de encabezados.")),
    ("unknown column", _l("Columna desconocida.")),
    ("column appears twice", _l("La columna aparece dos veces.")),
    ("required column is missing", _l("Falta esta columna obligatoria.")),
    ("more than", _l("El archivo tiene demasiadas filas: divídalo en partes.")),
    ("expected", _l("La fila no tiene el mismo número de campos que el encabezado.")),
    ("malformed CSV", _l("El archivo CSV está mal formado (revise las comillas).")),
    (Refusal.TERRITORY.value, _l("La persona de esta fila no pertenece a su ámbito.")),
    (
        Refusal.ADMIN_ACCOUNT.value,
        _l("Es la cuenta de un administrador: solo un administrador nacional puede cambiarla."),
    ),
    ("a DNI of the file was created meanwhile", _l("Otro proceso creó un DNI del archivo.")),
)


def row_error_message(error: RowError) -> str:
    """A Spanish sentence for one problem of the file."""
    if error.field == "dni" and "is also on line" in error.reason:
        return str(_("El DNI se repite en el archivo."))
    for start, message in REASONS:
        if error.reason.startswith(start):
            return str(message)
    if error.field in FIELD_MESSAGES:
        return str(FIELD_MESSAGES[error.field])
    return str(_("Revise esta fila."))


IMPORT_ENDPOINT = "admin.users_import"


class UploadLimitRequest(Request):
    """Flask's request, whose body limit on the upload route alone is IMPORT_MAX_BYTES (every
    other route keeps MAX_CONTENT_LENGTH). The route is matched before any hook reads the
    body (the text check, CSRF), so the limit holds from the first byte read."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and self.endpoint == IMPORT_ENDPOINT:
            return int(current_app.config["IMPORT_MAX_BYTES"])
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def _megabytes(limit: int | None) -> float:
    return round((limit or 0) / 1024 / 1024, 1)


def upload_page(form: ImportForm, **context: object) -> ResponseReturnValue:
    return render_template(
        "passport/admin/users/import.html",
        form=form,
        reason_required=is_reason_required("import", current_admin()),
        max_megabytes=_megabytes(current_app.config["IMPORT_MAX_BYTES"]),
        **context,
    )


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """A body over the route's limit (the CSV upload): a clear page, never Werkzeug's."""
    # The guard may not have run yet (CSRF reads the body first): reveal nothing of the console.
    megabytes = _megabytes(request.max_content_length)
    return render_error(
        413,
        _(
            "El archivo supera el tamaño máximo de %(size)s MB. Divídalo en partes más "
            "pequeñas e impórtelas una por una.",
            size=megabytes,
        ),
    )


@bp.route("/usuarios/importar", methods=["GET", "POST"])
def users_import() -> ResponseReturnValue:
    """Upload a CSV: every problem is listed, or a preview waits for confirmation."""
    form = ImportForm()
    if request.method == "GET":
        return upload_page(form)
    if not form.validate_on_submit():
        return upload_page(form, form_error=_("El motivo es demasiado largo."))
    upload = request.files.get("file")
    content = upload.read() if upload is not None else b""
    if upload is None or not content:
        return upload_page(form, form_error=_("Seleccione un archivo CSV con datos."))
    try:
        preview = staging.preview_import(
            content, upload.filename or "", actor=admin_action(form.reason.data)
        )
    except ReasonRequiredError:
        return upload_page(form, form_error=_("Indique el motivo de la importación."))
    except InvalidImportError as error:
        problems = [(e.line, e.field, row_error_message(e), e.reason) for e in error.errors]
        return upload_page(form, problems=problems[:500], problem_count=len(problems))
    return render_template(
        "passport/admin/users/import_preview.html",
        upload=preview.upload,
        report=preview.report,
        form=ReasonForm(),
    )


@bp.post("/usuarios/importar/<token>/confirmar")
def users_import_confirm(token: str) -> ResponseReturnValue:
    """Import the previewed file for real; the mails go out in the background."""
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        upload = staging.confirm_import(token[:32], actor=admin_action())
    except staging.ImportNotFoundError:
        return upload_page(
            ImportForm(formdata=None),
            form_error=_("Esa importación ya fue confirmada o caducó. Vuelva a subir el archivo."),
        )
    except InvalidImportError as error:
        problems = [(e.line, e.field, row_error_message(e), e.reason) for e in error.errors]
        return upload_page(
            ImportForm(formdata=None), problems=problems[:500], problem_count=len(problems)
        )
    drain_after_response()
    return redirect(url_for("admin.users_import_result", token=upload.token))


@bp.get("/usuarios/importar/<token>")
def users_import_result(token: str) -> ResponseReturnValue:
    """What the import did and how its mails are going (reload to follow them)."""
    try:
        upload = staging.find_upload(token[:32], actor=admin_action())
    except staging.ImportNotFoundError:
        abort(404)
    if upload.confirmed_at is None:
        abort(404)
    return render_template(
        "passport/admin/users/import_result.html",
        upload=upload,
        progress=staging.import_progress(upload),
    )
