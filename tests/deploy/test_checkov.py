"""checkov --framework kubernetes over every built overlay: no failed check; each skip carries a written reason
(a checkov.io/skipN annotation `CHECK=reason` on the object)."""

import json
import subprocess
from pathlib import Path

import yaml

from conftest import OVERLAYS, tool


def test_checkov_passes_every_overlay(built, tmp_path):
    for overlay in OVERLAYS:
        (tmp_path / f"{overlay}.yaml").write_text(yaml.safe_dump_all(built[overlay], sort_keys=False))
    run = subprocess.run([tool("checkov"), "--framework", "kubernetes", "-d", str(tmp_path), "-o", "json"],
                         capture_output=True, text=True)
    report = json.loads(run.stdout)
    report = report[0] if isinstance(report, list) else report
    results = report["results"]
    failed = [f"{c['check_id']} {c['resource']} ({Path(c['file_path']).stem}): {c['check_name']}" for c in results["failed_checks"]]
    skipped = {}
    for check in results["skipped_checks"]:
        reason = (check.get("check_result") or {}).get("suppress_comment", "").strip()
        assert len(reason) > 20, f"{check['check_id']} on {check['resource']} is skipped without a reason"
        skipped.setdefault(check["check_id"], (reason, set()))[1].add(check["resource"])
    print(f"\n[checkov] {report['summary']['resource_count']} resources: {len(results['passed_checks'])} passed, "
          f"{len(failed)} failed, {len(results['skipped_checks'])} skipped")
    for check_id, (reason, resources) in sorted(skipped.items()):
        print(f"[checkov] skipped {check_id} on {len(resources)} resources ({', '.join(sorted(resources))}): {reason}")
    assert not failed, "checkov failed:\n" + "\n".join(failed)
    assert results["passed_checks"], "checkov checked nothing"
