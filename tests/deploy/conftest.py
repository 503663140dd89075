"""Each overlay of deploy/kubernetes rendered once per session."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.deploy.cluster import OVERLAYS, documents, render


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> Dict[str, Path]:
    """overlay name -> file with its rendered manifests."""
    directory = tmp_path_factory.mktemp("kubernetes")
    files = {}
    for overlay in OVERLAYS:
        files[overlay] = directory / f"{overlay}.yaml"
        files[overlay].write_text(render(overlay))
    return files


@pytest.fixture(scope="session")
def manifests(rendered) -> Dict[str, List[Dict[str, Any]]]:
    return {overlay: documents(path.read_text()) for overlay, path in rendered.items()}
