"""Every PromQL expression TurboServe's deployment runs: the dashboard's panel targets, the alert rules and the
autoscalers' queries, each as (source, expression) ready to evaluate."""

import json
import re

import yaml

from conftest import DEPLOY, K8S, kustomize
from test_kustomize import adapter_promql, adapter_rules

# What Grafana substitutes; short windows because the live test's Prometheus scrapes every second.
GRAFANA_VARIABLES = {"$__rate_interval": "15s", "$__range": "5m", "${datasource}": ""}


def dashboard_expressions() -> list[tuple[str, str]]:
    dashboard = json.loads((DEPLOY / "grafana" / "turboserve.json").read_text())
    found = []
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            found.append((f"dashboard: {panel['title']} [{target['refId']}]", expr))
    return found


def as_bool(expr: str) -> str:
    """An alert's threshold comparisons as `bool` comparisons, so the expression returns its series whether or not
    the alert fires (the point is that the metrics exist)."""
    return re.sub(r"(?<![=!<>])(>=|<=|==|!=|>|<)\s*(?=[0-9])", r"\1 bool ", expr)


def alert_expressions() -> list[tuple[str, str]]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "turboserve-rules.yaml").read_text())
    return [(f"alert: {r['alert']}", as_bool(r["expr"].strip())) for g in rules["groups"] for r in g["rules"]]


def autoscaler_expressions() -> list[tuple[str, str]]:
    found = []
    for overlay in ("fleet", "quant-24gb"):
        for so in [d for d in kustomize(K8S / "overlays" / overlay) if d["kind"] == "ScaledObject"]:
            found += [(f"KEDA {overlay}: {t['name']}", t["metadata"]["query"]) for t in so["spec"]["triggers"]]
    found += [(f"HPA adapter: {r['name']['as']}", adapter_promql(r)) for r in adapter_rules()]
    return found


# The live server runs the tiny models: an expression that names a model of the real catalog (a per-model autoscaler)
# is evaluated with the tiny stand-in of the same task, as Grafana's variables are substituted above.
TINY_STAND_INS = {"wan2.2-i2v-a14b": "tiny-i2v", "wan2.1-t2v-14b": "tiny-t2v", "wan2.1-t2v-1.3b": "tiny-t2v"}


def on_tiny_models(expr: str) -> str:
    for model, tiny in TINY_STAND_INS.items():
        expr = expr.replace(f'model="{model}"', f'model="{tiny}"')
    return expr


def all_expressions() -> list[tuple[str, str]]:
    return dashboard_expressions() + alert_expressions() + autoscaler_expressions()


def live_expressions() -> list[tuple[str, str]]:
    """Every expression as the live test evaluates it against a server of tiny models."""
    return [(source, on_tiny_models(expr)) for source, expr in all_expressions()]
