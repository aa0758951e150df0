"""deploy/Dockerfile and .dockerignore, statically (no registry here to build from): every COPY source exists and
survives .dockerignore, the entrypoint runs turboserve, the engine venv comes from the script CI runs, the image
runs as a non-root user and carries no model weights."""

import fnmatch
import json
import re
import shlex
import subprocess

from conftest import DEPLOY, REPO

DOCKERFILE = (DEPLOY / "Dockerfile").read_text()
LINES = re.sub(r"\\\n", " ", DOCKERFILE).splitlines()
INSTRUCTIONS = [(l.split()[0].upper(), l.split(None, 1)[1]) for l in LINES if l.strip() and not l.lstrip().startswith("#")]


def context_sources():
    for op, rest in INSTRUCTIONS:
        if op == "COPY" and "--from=" not in rest:
            yield from shlex.split(rest)[:-1]


def included(path: str) -> bool:
    """Docker's .dockerignore rule: the last matching pattern wins; `!` re-includes."""
    keep = True
    for pattern in (REPO / ".dockerignore").read_text().splitlines():
        pattern = pattern.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/").removeprefix("**/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pattern) for p in prefixes) or fnmatch.fnmatch(parts[-1], pattern):
            keep = negate
    return keep


def test_every_copy_source_exists_and_is_in_the_build_context():
    sources = list(context_sources())
    assert {"Package.swift", "Sources", "scripts/setup-engine", "engine/requirements.txt"} <= set(sources)
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: no such file"
        assert included(source), f"COPY {source}: excluded by .dockerignore"
    assert not included("engine/.venv") and not included("var/models") and not included(".build")


def test_build_stage_has_every_target_of_the_package():
    """SwiftPM refuses to load a package with a target folder missing, even one not built (tests, benchmarks)."""
    manifest = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=REPO, capture_output=True, text=True, check=True).stdout)
    folders = {"test": "Tests"}
    build_stage = DOCKERFILE.split(" AS runtime")[0]
    copied = set(re.findall(r"^COPY (\S+) ", build_stage, re.M))
    for target in manifest["targets"]:
        path = target.get("path") or f"{folders.get(target['type'], 'Sources')}/{target['name']}"
        assert path.split("/")[0] in copied, f"the build stage lacks {path} (target {target['name']})"
        assert included(path), f".dockerignore drops {path}"


def test_multi_stage_release_build_of_the_product():
    stages = re.findall(r"^FROM\s+(\S+)\s+AS\s+(\w+)", DOCKERFILE, re.M)
    assert [name for _, name in stages] == ["build", "runtime"]
    assert "swift build -c release --product turboserve" in DOCKERFILE
    assert '.executable(name: "turboserve"' in (REPO / "Package.swift").read_text()
    assert "COPY --from=build /out/turboserve /usr/local/bin/turboserve" in DOCKERFILE


def test_engine_environment_from_the_script_ci_runs_with_a_torch_build_argument():
    assert "scripts/setup-engine" in (REPO / "scripts" / "test").read_text()
    run = next(rest for op, rest in INSTRUCTIONS if op == "RUN" and "scripts/setup-engine" in rest)
    assert "TORCH_VARIANT" in run and "PIP_EXTRA_INDEX_URL" in run
    assert re.search(r"^ARG TORCH_VARIANT=cu\d+", DOCKERFILE, re.M)
    env = dict(re.findall(r"(TURBOSERVE_ENGINE_PYTHON|TURBOSERVE_ENGINE_VENV)=(\S+)", DOCKERFILE))
    assert env["TURBOSERVE_ENGINE_PYTHON"] == env["TURBOSERVE_ENGINE_VENV"] + "/bin/python"


def test_entrypoint_non_root_no_weights():
    entrypoint = next(rest for op, rest in INSTRUCTIONS if op == "ENTRYPOINT")
    assert entrypoint.strip().endswith('"/usr/local/bin/turboserve"]')
    assert next(rest for op, rest in INSTRUCTIONS if op == "CMD").strip() == '["serve"]'
    user = [rest for op, rest in INSTRUCTIONS if op == "USER"][-1]
    assert user.split(":")[0] not in ("0", "root") and int(user.split(":")[0]) >= 10000
    assert "TURBOSERVE_MODELS_DIR=/models" in DOCKERFILE
    assert not re.search(r"\.(pth|safetensors|ckpt|bin)\b", " ".join(context_sources()))
