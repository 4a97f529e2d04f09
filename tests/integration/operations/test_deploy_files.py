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
