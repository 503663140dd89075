"""The image definition: hadolint's rules, and the promises the manifests
rely on (non-root user, pinned base, the lock file, the model inside)."""
from __future__ import annotations

import re
import subprocess

from tests.deploy.cluster import ROOT, tool

DOCKERFILE = ROOT / "Dockerfile"


def _hadolint(path) -> subprocess.CompletedProcess:
    # Default failure threshold: any rule, down to "info", fails.
    return subprocess.run([tool("hadolint"), "--no-color", str(path)], capture_output=True, text=True, timeout=60)


def test_the_dockerfile_passes_hadolint():
    result = _hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_rejects_an_unpinned_image(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    result = _hadolint(bad)
    assert result.returncode != 0 and "DL3007" in result.stdout


def _stages():
    text = DOCKERFILE.read_text()
    return re.split(r"^FROM ", text, flags=re.M)[1:]


def test_the_base_image_is_pinned_to_an_exact_version():
    images = [stage.split()[0] for stage in _stages()]
    external = [i for i in images if ":" in i or "@" in i]
    assert external, images
    for image in external:
        assert "@sha256:" in image or re.search(r":\d+\.\d+\.\d+-", image), image


def test_the_processes_run_as_an_unprivileged_user():
    runtime = _stages()[-1]
    users = re.findall(r"^USER\s+(\S+)", runtime, flags=re.M)
    assert users, "the runtime stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) >= 10000, users[-1]


def test_the_image_installs_the_lock_and_builds_the_pipeline_and_model_like_setup():
    build = "".join(_stages()[:-1])
    assert "-r requirements.lock" in build
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    # The same module that builds the spaCy pipeline in scripts/setup.sh.
    (pipeline,) = set(re.findall(r"-m (\S*spacy_pipeline)", setup))
    assert f"python -m {pipeline} models/spacy_ru" in build
    trainer = re.search(r"^train:.*\n\t@?\$\(PY\) -m (\S+)", (ROOT / "Makefile").read_text(), flags=re.M).group(1)
    assert f"python -m {trainer}" in build


def _build_context():
    """Files `docker build .` sends: git's files less .dockerignore's patterns."""
    import fnmatch
    from pathlib import PurePosixPath

    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)

    def matches(path: str, pattern: str) -> bool:
        # Paths are relative to the context; "**/" is any depth, and an
        # excluded directory excludes everything below it.
        if pattern.startswith("**/"):
            return fnmatch.fnmatch(path, pattern[3:]) or fnmatch.fnmatch(path, pattern)
        return fnmatch.fnmatch(path, pattern)

    def ignored(path: str) -> bool:
        parts = PurePosixPath(path).parts
        return any(matches("/".join(parts[: i + 1]), pattern) for i in range(len(parts)) for pattern in patterns)
    return {path for path in tracked.stdout.splitlines() if not ignored(path)}


def test_the_image_holds_every_module_and_file_the_manifests_run(manifests):
    import importlib.util

    from tests.deploy.cluster import containers, python_commands

    context = _build_context()
    assert not any(path.startswith(("tests/", "bench/", "fakes/", ".venv")) for path in context)
    for docs in manifests.values():
        for _, container in containers(docs):
            for command in python_commands(container.get("command", [])):
                module = command[1]
                path = module.replace(".", "/")
                in_repo = {f"{path}.py", f"{path}/__main__.py"} & context
                # A library of the lock (rasa) rather than a package of this repository.
                top = module.split(".")[0]
                from_lock = not (ROOT / top).exists() and importlib.util.find_spec(top) is not None
                assert in_repo or from_lock, f"{module} is not in the image"
                for word in command[2:]:
                    if word.endswith((".yml", ".yaml")):
                        assert word in context, f"{word} is not in the image"
