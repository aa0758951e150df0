"""Every object of every overlay validates: built-in kinds with kubernetes-validate --strict for a current
Kubernetes, the custom resources (KEDA, Prometheus Operator) against the JSON schemas in tests/deploy/schemas."""

import json
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
from referencing import Registry, Resource

from conftest import OVERLAYS

KUBERNETES_VERSION = "1.36.0"
SCHEMAS = Path(__file__).parent / "schemas"
CUSTOM = {("keda.sh/v1alpha1", "ScaledObject"): "scaledobject.json",
          ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.json",
          ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule.json"}


def registry() -> Registry:
    common = json.loads((SCHEMAS / "_common.json").read_text())
    return Registry().with_resource("_common.json", Resource.opaque(common))


def validator(name: str):
    schema = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, registry=registry())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates(built, overlay):
    counts = {"kubernetes": 0, "custom": 0}
    for doc in built[overlay]:
        key = (doc["apiVersion"], doc["kind"])
        where = f"{overlay}: {doc['kind']}/{doc['metadata']['name']}"
        if key in CUSTOM:
            errors = sorted(validator(CUSTOM[key]).iter_errors(doc), key=str)
            assert not errors, f"{where}: " + "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)
            counts["custom"] += 1
        else:
            try:
                kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as error:
                pytest.fail(f"{where}: {'/'.join(map(str, error.path))}: {error.message}")
            counts["kubernetes"] += 1
    print(f"\n[validate] {overlay}: {counts['kubernetes']} objects (Kubernetes {KUBERNETES_VERSION}, strict), {counts['custom']} custom resources")
    assert counts["kubernetes"] > 0


@pytest.mark.parametrize("name,bad", [
    ("scaledobject.json", {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "x"},
                           "spec": {"scaleTargetRef": {"name": "w"}, "triggers": [{"type": "prometheus", "metadata": {"query": "up"}}]}}),
    ("servicemonitor.json", {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "x"},
                             "spec": {"selector": {}, "endpoints": [{"port": "http", "interval": "15 seconds"}]}}),
    ("prometheusrule.json", {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "x"},
                             "spec": {"groups": [{"name": "g", "rules": [{"alert": "A", "record": "b", "expr": "up"}]}]}}),
])
def test_custom_schemas_reject_broken_objects(name, bad):
    assert list(validator(name).iter_errors(bad)), f"{name} accepted a broken object"


def test_kubectl_kustomize_is_v5():
    """The overlays use components and `labels`: kustomize v5 (the tools venv's kubectl), not Debian's 1.20."""
    import shutil
    import subprocess
    version = subprocess.run([shutil.which("kubectl"), "version", "--client"], capture_output=True, text=True).stdout
    assert "Kustomize Version: v5" in version, version
