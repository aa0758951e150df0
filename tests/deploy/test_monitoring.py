"""Alert rules (promtool check + unit tests), the generated Prometheus Operator objects, the dashboard's panels
and that every alert has its section in docs/deploy.md."""

import json
import re
import subprocess

import yaml

from conftest import DEPLOY, REPO, one, tool
from expressions import alert_expressions, as_bool

RULES = DEPLOY / "prometheus" / "turboserve-rules.yaml"
RULE_TESTS = DEPLOY / "prometheus" / "turboserve-rules.test.yaml"
ALERTS = [r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]


def test_promtool_check_rules():
    result = subprocess.run([tool("promtool"), "check", "rules", str(RULES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in result.stdout


def test_promtool_unit_tests_cover_every_alert():
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    covered = {t["alertname"] for test in tests for t in test["alert_rule_test"] if t["exp_alerts"]}
    silent = {t["alertname"] for test in tests for t in test["alert_rule_test"] if not t["exp_alerts"]}
    assert set(ALERTS) <= covered and set(ALERTS) <= silent, "each alert needs a firing and a silent case"
    result = subprocess.run([tool("promtool"), "test", "rules", str(RULE_TESTS)], capture_output=True, text=True, cwd=RULE_TESTS.parent)
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr
    print(f"\n[promtool] {len(tests)} rule tests, {sum(len(t['alert_rule_test']) for t in tests)} alert evaluations: SUCCESS")


def test_promtool_unit_tests_can_fail(tmp_path):
    (tmp_path / "turboserve-rules.yaml").write_text(RULES.read_text().replace("> 85", "> 95"))
    (tmp_path / "tests.yaml").write_text(RULE_TESTS.read_text())
    result = subprocess.run([tool("promtool"), "test", "rules", "tests.yaml"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode != 0 and "TurboServeGPUTemperatureHigh" in result.stdout + result.stderr


def test_generated_objects_are_up_to_date(built):
    result = subprocess.run(["python3", str(DEPLOY / "k8s/components/monitoring/generate.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for overlay, docs in built.items():
        rule = one(docs, "PrometheusRule", "turboserve")
        assert rule["spec"] == yaml.safe_load(RULES.read_text()), overlay
        dashboard = one(docs, "ConfigMap", "turboserve-grafana-dashboard")
        assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert json.loads(dashboard["data"]["turboserve.json"]) == json.loads((DEPLOY / "grafana/turboserve.json").read_text())


def test_dashboard_has_the_panels_operators_need():
    titles = {p["title"] for p in json.loads((DEPLOY / "grafana/turboserve.json").read_text())["panels"]}
    needed = {"Success rate", "Generation time P95", "Queue depth by class", "Generation time P50 / P95 by class and model",
              "Engine busy ratio", "GPU utilisation", "GPU memory", "GPU temperature", "GPU power", "Batch size",
              "Model loads and evictions", "Failures by reason", "Per-tenant throughput", "Videos per Wh",
              "Pod restarts (range)", "GPU memory used (max)"}
    assert needed <= titles, needed - titles


def test_every_alert_and_panel_is_documented():
    doc = (REPO / "docs" / "deploy.md").read_text()
    for alert in ALERTS:
        assert re.search(rf"^#+ `?{alert}`?\s*$", doc, re.M), f"docs/deploy.md has no section for {alert}"
    for panel in json.loads((DEPLOY / "grafana/turboserve.json").read_text())["panels"]:
        assert f"**{panel['title']}**" in doc, f"docs/deploy.md does not explain the panel {panel['title']}"


def test_bool_rewrite_keeps_every_series():
    assert as_bool("max(x) > 85") == "max(x) > bool 85"
    assert as_bool("a > 0 and on (c) b > 5") == "a > bool 0 and on (c) b > bool 5"
    assert as_bool('x{le="+Inf"} >= 1') == 'x{le="+Inf"} >= bool 1'
    assert all(" bool " in expr for _, expr in alert_expressions())
