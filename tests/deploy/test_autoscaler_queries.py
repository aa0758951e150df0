"""The autoscalers' PromQL on synthetic series (promtool's promql_expr_test): the HPA's GPU band holds between
30 % and 70 % and passes the utilisation through outside it; the queue queries count the store's queue once
however many pods report it."""

import subprocess

import yaml

from conftest import K8S, kustomize, tool
from test_kustomize import adapter_promql, adapter_rules


def promtool_expr_test(tmp_path, series: list[tuple[str, str]], cases: list[tuple[str, list[dict]]]):
    test = {"evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in series],
        "promql_expr_test": [{"expr": expr, "eval_time": "2m", "exp_samples": samples} for expr, samples in cases]}]}
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(test))
    return subprocess.run([tool("promtool"), "test", "rules", "test.yaml"], capture_output=True, text=True, cwd=tmp_path)


def band_query(namespace: str) -> str:
    rule = next(r for r in adapter_rules() if r["name"]["as"] == "turboserve_gpu_utilization_band")
    return adapter_promql(rule).replace('namespace="turboserve"', f'namespace="{namespace}"')


def test_gpu_band_holds_between_30_and_70_percent(tmp_path):
    utilisation = {"hot": ["0.75", "0.75"], "held": ["0.6", "0.4"], "cold": ["0.2", "0.2"]}
    series = [(f'turboserve_gpu_utilization_ratio{{namespace="{ns}",worker="w{i}",device="cuda:0"}}', f"{u}x3")
              for ns, values in utilisation.items() for i, u in enumerate(values)]
    cases = [(band_query("hot"), [{"labels": "{}", "value": 0.75}]),    # above 70 %: scale up by 0.75 / 0.7
             (band_query("held"), [{"labels": "{}", "value": 0.7}]),    # in the band: exactly the target, hold
             (band_query("cold"), [{"labels": "{}", "value": 0.2}])]    # below 30 %: scale down to 0.2 / 0.7
    result = promtool_expr_test(tmp_path, series, cases)
    assert result.returncode == 0, result.stdout + result.stderr


def test_queue_queries_count_the_store_once(tmp_path):
    # three pods (two api, one worker) each report the store's 6 queued standard jobs of one model, 2 of another
    series = [(f'turboserve_queue_depth_jobs{{namespace="turboserve",pod="{pod}",class="standard",model="{m}"}}', f"{n}x3")
              for pod in ("api-a", "api-b", "worker-a") for m, n in (("wan2.1-t2v-1.3b", 6), ("wan2.2-i2v-a14b", 2))]
    keda = {t["name"]: t["metadata"]["query"] for so in kustomize(K8S / "overlays" / "fleet") if so["kind"] == "ScaledObject"
            for t in so["spec"]["triggers"]}
    i2v = {t["name"]: t["metadata"]["query"] for so in kustomize(K8S / "overlays" / "quant-24gb") if so["kind"] == "ScaledObject"
           for t in so["spec"]["triggers"]}
    queued = adapter_promql(next(r for r in adapter_rules() if r["name"]["as"] == "turboserve_queued_jobs"))
    cases = [(keda["standard-queue"], [{"labels": "{}", "value": 8}]),
             (i2v["standard-queue"], [{"labels": "{}", "value": 2}]),
             (queued, [{"labels": "{}", "value": 8}])]
    result = promtool_expr_test(tmp_path, series, cases)
    assert result.returncode == 0, result.stdout + result.stderr
