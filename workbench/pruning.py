"""Old candidate models of the workbench (``<state>/models``) are deleted when
a training job finishes: each archive is hundreds of megabytes and every
job that changed the data adds one.

Kept: the model the workbench activated last and the one it replaced (the
rollback target, both from ``activation.json``), the model the Rasa server
reported running, the job's own model (a reused one may be old), and the
newest candidates up to WORKBENCH_KEEP_MODELS. The report of a job whose model was deleted
still opens; only its «активировать» is refused.

Called by the runner while it holds the training lock, so no other job is
writing a model at the same time. Nothing outside ``<state>/models`` is
touched: models/ of the project (``make train``, restarts) is not ours.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable, List, Optional, Set

from hotline.nlu.training import training_seconds_file

log = logging.getLogger(__name__)

SUFFIX = ".tar.gz"


def protected_names(record: Optional[dict], running: Iterable[Optional[str]] = ()) -> Set[str]:
    """File names never deleted: the activation record's active and previous
    models, and whatever the server reported running."""
    names = {Path(p).name for p in ((record or {}).get("active"), (record or {}).get("previous")) if p}
    names.update(n for n in running if n)
    return names


def prune_models(folder: Path, keep: int, protected: Set[str]) -> List[str]:
    """Delete the candidates of `folder` beyond the `keep` newest (by change
    time) that are not `protected`; returns the deleted file names."""
    keep = max(1, int(keep))
    try:
        models = [p for p in folder.iterdir() if p.name.endswith(SUFFIX) and p.is_file()]
    except FileNotFoundError:
        return []
    # Newest first; the name breaks ties so the order is stable on coarse clocks.
    models.sort(key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    deleted = []
    for model in models[keep:]:
        if model.name in protected:
            continue
        for path in (model, training_seconds_file(model)):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as error:  # a file we cannot delete stays; the next job tries again
                log.warning("workbench: could not delete the old model %s (%s)", path.name, type(error).__name__)
                break
        else:
            deleted.append(model.name)
    return deleted


__all__ = ["prune_models", "protected_names"]
