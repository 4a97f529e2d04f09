"""The alert rules and the dashboard in deploy/ parse, and name only metrics Passport exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from tests.integration.operations.conftest import scrape

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
METRIC_NAME = re.compile(r"\bpassport_[a-z0-9_]+")


def exported_names(make_app: Any) -> set[str]:
    # A Redis that does not answer still makes passport_redis_up appear (as 0).
    client = make_app(REDIS_URL="redis://127.0.0.1:9/0").test_client()
    client.get("/healthz")  # so the histogram has samples (_bucket, _count, _sum)
    return set(METRIC_NAME.findall(scrape(client)))


def test_alert_rules_name_only_exported_metrics(make_app: Any) -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    assert len(exprs) >= 8
    for rule in (rule for group in rules["groups"] for rule in group["rules"]):
        assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]
    used = {name for expr in exprs for name in METRIC_NAME.findall(expr)}
    assert used
    assert used <= exported_names(make_app), used - exported_names(make_app)


def test_dashboard_names_only_exported_metrics(make_app: Any) -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "payslip-day.json").read_text(encoding="utf-8"))
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {name for expr in exprs for name in METRIC_NAME.findall(expr)}
    assert {"passport_logins_total", "passport_tokens_issued_total"} <= used
    assert used <= exported_names(make_app), used - exported_names(make_app)


def test_every_key_of_the_environment_file_is_a_setting() -> None:
    from typing import get_type_hints

    from minedu_sso.settings import ALIASES
    from minedu_sso.settings import ProductionConfig
    from tests.served import read_env_file

    known = {ALIASES.get(name, f"PASSPORT_{name}") for name in get_type_hints(ProductionConfig)}
    values = read_env_file(DEPLOY / "passport.env")
    assert set(values) - known == set()
    assert values["PASSPORT_ENV"] == "production"
    assert values["PASSPORT_ISSUER"].startswith("https://")
    assert values["PASSPORT_TRUSTED_PROXY_COUNT"] == "1"  # one nginx, as in deploy/nginx


def test_the_systemd_units_start_commands_that_exist() -> None:
    from click.testing import CliRunner

    from passport.cli import cli
    from passport.cli import register_groups

    register_groups()
    unit = (DEPLOY / "systemd" / "passport@.service").read_text(encoding="utf-8")
    (exec_start,) = re.findall(r"^ExecStart=\S+/passport (.+)$", unit, re.M)
    arguments = exec_start.replace("%i", "8000").split()
    assert arguments[0] == "serve"
    # The options parse (--help after them stops before anything is served).
    result = CliRunner().invoke(cli, [*arguments, "--help"])
    assert result.exit_code == 0, result.output
    assert "TimeoutStopSec=20" in unit  # longer than gunicorn's 10 s graceful timeout
    maintenance = (DEPLOY / "systemd" / "passport-maintenance@.service").read_text(encoding="utf-8")
    for command in re.findall(r"/passport ([a-z-]+ [a-z-]+)", maintenance):
        group, name = command.split()
        assert CliRunner().invoke(cli, [group, name, "--help"]).exit_code == 0, command


def test_the_readme_renders_every_placeholder_of_the_nginx_template() -> None:
    template = (DEPLOY / "nginx" / "passport.conf.template").read_text(encoding="utf-8")
    body = "\n".join(line for line in template.splitlines() if not line.startswith("#"))
    placeholders = set(re.findall(r"\$\{(PASSPORT_[A-Z_]+)\}", body))
    readme = (DEPLOY.parent / "README.md").read_text(encoding="utf-8")
    (envsubst,) = re.findall(r"envsubst '([^']+)'", readme)
    assert set(re.findall(r"\$\{(PASSPORT_[A-Z_]+)\}", envsubst)) == placeholders
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in template  # replaced, not appended
