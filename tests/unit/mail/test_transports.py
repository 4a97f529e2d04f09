"""Mail transports and sending: outbox files, the console, SMTP failures, header injection."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from flask import Flask

from minedu_sso.settings import ConfigError
from passport import mail as mail_capability
from passport.mail import MailDeliveryError
from passport.mail import send_message
from passport.mail.transports import ConsoleTransport
from passport.mail.transports import OutboxTransport
from passport.mail.transports import SmtpTransport
from passport.mail.transports import transport_from_settings


def mail_app(tmp_path: Path, backend: str = "outbox", **settings: object) -> Flask:
    app = Flask(__name__)
    app.config.update(
        MAIL_BACKEND=backend,
        MAIL_OUTBOX=str(tmp_path / "outbox"),
        MAIL_DEFAULT_SENDER="Mensajería <mailmed@minedu.gob.pe>",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=1,  # nothing listens there
    )
    app.config.update(settings)
    mail_capability.init_app(app)
    return app


@pytest.fixture
def outbox_app(tmp_path: Path) -> Iterator[Flask]:
    app = mail_app(tmp_path)
    with app.app_context():
        yield app


def read(path: Path):  # type: ignore[no-untyped-def]
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def test_the_backend_is_picked_from_the_settings(tmp_path: Path) -> None:
    assert isinstance(transport_from_settings("smtp", None), SmtpTransport)
    assert isinstance(transport_from_settings("outbox", str(tmp_path)), OutboxTransport)
    assert isinstance(transport_from_settings("console", None), ConsoleTransport)
    with pytest.raises(ConfigError, match="smtp, outbox or console"):
        transport_from_settings("carrier-pigeon", None)
    with pytest.raises(ConfigError):
        transport_from_settings("outbox", None)


def test_the_outbox_writes_one_eml_file_with_both_parts(outbox_app: Flask, tmp_path: Path) -> None:
    send_message(
        "rosa@example.edu.pe", "Generar tu contraseña – prueba", "Texto ñ", "<p>HTML ñ</p>"
    )
    files = list((tmp_path / "outbox").iterdir())
    assert len(files) == 1
    assert files[0].suffix == ".eml"  # no temporary file left behind
    message = read(files[0])
    assert message["Subject"] == "Generar tu contraseña – prueba"
    assert message["To"] == "rosa@example.edu.pe"
    assert message["From"] == "Mensajería <mailmed@minedu.gob.pe>"
    assert message.get_body(preferencelist=("plain",)).get_content().strip() == "Texto ñ"
    assert message.get_body(preferencelist=("html",)).get_content().strip() == "<p>HTML ñ</p>"


def test_each_message_gets_its_own_file(outbox_app: Flask, tmp_path: Path) -> None:
    for number in range(3):
        send_message("rosa@example.edu.pe", f"Asunto {number}", "texto")
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 3


def test_an_unwritable_outbox_is_a_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    app = mail_app(tmp_path, MAIL_OUTBOX=str(blocker / "outbox"))
    with app.app_context(), pytest.raises(MailDeliveryError, match="outbox"):
        send_message("rosa@example.edu.pe", "Asunto", "texto")


@pytest.mark.parametrize(
    ("to", "subject"),
    [
        ("rosa@example.edu.pe\nBcc: x@evil.example", "Asunto"),
        ("rosa@example.edu.pe", "A\nBcc: x@evil.example"),
    ],
)
def test_a_newline_in_a_header_is_refused(
    outbox_app: Flask, tmp_path: Path, to: str, subject: str
) -> None:
    with pytest.raises(MailDeliveryError, match="newline"):
        send_message(to, subject, "texto")
    assert not (tmp_path / "outbox").exists() or list((tmp_path / "outbox").iterdir()) == []


def test_the_console_backend_logs_the_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = mail_app(tmp_path, backend="console")
    with app.app_context(), caplog.at_level(logging.INFO, logger="passport.mail.transports"):
        send_message("rosa@example.edu.pe", "Asunto", "el cuerpo del mensaje")
    assert "rosa@example.edu.pe" in caplog.text
    assert "el cuerpo del mensaje" in caplog.text
    assert not (tmp_path / "outbox").exists()


def test_an_unreachable_smtp_server_is_a_delivery_error(tmp_path: Path) -> None:
    app = mail_app(tmp_path, backend="smtp", MAIL_SUPPRESS_SEND=False)
    with app.app_context(), pytest.raises(MailDeliveryError, match="SMTP"):
        send_message("rosa@example.edu.pe", "Asunto", "texto")


def test_smtp_sends_through_flask_mail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[str, list[str], bytes]] = []

    class FakeSMTP:
        def __init__(self, host: str, port: int) -> None:
            self.host = host

        def set_debuglevel(self, level: int) -> None: ...

        def sendmail(self, sender: str, to: list[str], body: bytes, *args: object) -> None:
            sent.append((sender, to, body))

        def quit(self) -> None: ...

    # The SMTP server is the one thing outside Passport: stand in for it, not for our code.
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    app = mail_app(tmp_path, backend="smtp", MAIL_SUPPRESS_SEND=False)
    with app.app_context():
        send_message("rosa@example.edu.pe", "Asunto", "texto", "<p>html</p>")
    [(_sender, to, body)] = sent
    assert to == ["rosa@example.edu.pe"]
    assert b"multipart/alternative" in body


def test_production_refuses_the_console_backend(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="console"):
        mail_app(tmp_path, backend="console", ENV="production")
    assert mail_app(tmp_path, backend="console", ENV="development")
