"""The report of a training job: how the candidate model understands the
held-out phrases (tests/nlu_heldout.yml), and what changed against the model
the Rasa server runs.

The figures are hotline.heldout's — the same the tests and bench/nlu.py
compute — over predictions kept as JSON: ``python -m workbench.evaluate
predict`` runs a model over the held-out set once (the job's step 3), and the
running model's predictions are cached by the content of its archive and of
the held-out set, so it is evaluated once however many jobs compare to it.

The confusion matrix is a PNG drawn on the server (matplotlib, Agg) with a
table of the same numbers beside it for screen readers.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml

from hotline import heldout
from hotline.heldout import Prediction
from workbench.jobs import mask_line, read_json, write_json

CANDIDATE = "candidate.json"
PICTURE = "confusion.png"
HELD_OUT = Path("tests") / "nlu_heldout.yml"
# The training phrases when the workbench first started on a project: what a
# model trained outside the workbench (make run) is compared against.
FIRST_START = "first-start.json"
METRICS = (("intent_accuracy", "Точность намерений"), ("macro_f1", "Macro-F1"),
           ("faq_key_accuracy", "Точность ключей FAQ"))


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_key(model: Path, project: Path) -> str:
    """Same archive and same held-out set → same predictions."""
    return f"{_digest(model)[:16]}-{_digest(project / HELD_OUT)[:12]}"


# «[Иванов](full_name)», «[МФЦ]{"entity": "org"}»: the text a person typed is inside the brackets.
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def nlu_examples(data: Path) -> List[List[Optional[str]]]:
    """[text, intent, FAQ key] of every NLU example under ``data`` (Rasa YAML),
    read without Rasa: the workbench notes the data a model was trained from."""
    found = []
    for path in sorted(Path(data).rglob("*.yml")):
        try:
            content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        for block in (content.get("nlu") or []) if isinstance(content, dict) else []:
            name = block.get("intent") if isinstance(block, dict) else None
            if not name or not isinstance(block.get("examples"), str):
                continue
            intent, key = (heldout.FAQ, name) if name.startswith(heldout.FAQ + "/") else (name, None)
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    found.append([_ANNOTATION.sub(r"\1", line[2:].strip()), intent, key])
    return found


def note_first_start(project: Path, state: Path) -> None:
    path = state / "examples" / FIRST_START
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, nlu_examples(project / "data"))


def new_examples(current: Sequence[Sequence[Optional[str]]], before: Sequence[Sequence[Optional[str]]],
                 limit: int = 50) -> List[List[Optional[str]]]:
    """Examples in ``current`` that ``before`` did not have (same text and label)."""
    known = {tuple(e) for e in before}
    return [list(e) for e in current if tuple(e) not in known][:limit]


def predict_file(model: Path, out: Path, held_out: Path, extra: Optional[Path] = None) -> Dict[str, Any]:
    parse = heldout.archive_parser(model)
    rows = heldout.predict(parse, heldout.held_out_examples(held_out))
    data: Dict[str, Any] = {"model": model.name, "rows": [r.as_dict() for r in rows]}
    if extra is not None:
        examples = [tuple(e) for e in (read_json(extra) or [])]
        data["new"] = [r.as_dict() for r in heldout.predict(parse, examples)]
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out, data)
    return data


def load_rows(path: Path) -> Optional[List[Prediction]]:
    data = read_json(path)
    if not data:
        return None
    return [Prediction.from_dict(r) for r in data.get("rows", [])]


def _delta(now: float, before: Optional[float]) -> Optional[float]:
    return None if before is None else now - before


def build(rows: Sequence[Prediction], baseline: Optional[Sequence[Prediction]] = None,
          pairs: int = 10) -> Dict[str, Any]:
    """Everything the report page shows, from the candidate's predictions
    and (optionally) the running model's on the same phrases."""
    summary = heldout.summary(rows)
    before = heldout.summary(baseline) if baseline else None
    metrics = [{"name": name, "title": title, "value": summary[name],
                "before": before[name] if before else None,
                "delta": _delta(summary[name], before[name] if before else None)}
               for name, title in METRICS]

    scores = heldout.per_intent(rows)
    old_scores = heldout.per_intent(baseline) if baseline else {}
    intents = [{"intent": name, **s, "f1_before": old_scores.get(name, {}).get("f1") if baseline else None,
                "delta": _delta(s["f1"], old_scores[name]["f1"]) if name in old_scores else None}
               for name, s in scores.items()]
    # Weakest first; labels only predicted (nlu_fallback: no held-out phrase
    # expects it) go last: their F1 is 0 by definition and says nothing new.
    intents.sort(key=lambda r: (r["support"] == 0, r["f1"], r["intent"]))

    hits = heldout.faq_key_hits(rows)
    old_hits = heldout.faq_key_hits(baseline) if baseline else {}
    faq_keys = []
    for key, keyed in sorted(hits.items()):
        accuracy = sum(keyed) / len(keyed)
        old = sum(old_hits[key]) / len(old_hits[key]) if key in old_hits else None
        faq_keys.append({"key": key, "accuracy": accuracy, "support": len(keyed), "before": old,
                         "delta": _delta(accuracy, old)})
    faq_keys.sort(key=lambda r: (r["accuracy"], r["key"]))

    labels, matrix = heldout.confusion(rows)
    confused = heldout.confused_pairs(rows, limit=pairs)
    for pair in confused:
        pair["examples"] = [mask_line(t) for t in pair["examples"]]
    return {"examples": summary["examples"], "metrics": metrics, "intents": intents, "faq_keys": faq_keys,
            "confusion": {"labels": labels, "matrix": matrix}, "pairs": confused,
            "changes": changes(rows, baseline) if baseline else None}


def changes(rows: Sequence[Prediction], baseline: Sequence[Prediction], limit: int = 30) -> Dict[str, Any]:
    """Held-out phrases the new model now gets right, and ones it now gets wrong."""
    before = {(r.text, r.intent, r.key): heldout.outcome(r) for r in baseline}
    fixed, broken = [], []
    for r in rows:
        old = before.get((r.text, r.intent, r.key))
        if old is None:
            continue
        expected, got = heldout.outcome(r)
        row = {"text": mask_line(r.text), "expected": expected, "now": got, "before": old[1]}
        if got == expected and old[1] != expected:
            fixed.append(row)
        elif got != expected and old[1] == expected:
            broken.append(row)
    return {"fixed": fixed[:limit], "broken": broken[:limit], "fixed_total": len(fixed),
            "broken_total": len(broken)}


def confusion_png(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> bytes:
    """The confusion matrix as a picture: rows are the right intents, columns
    the predicted ones. Colours follow each row's share, not the raw count
    (the FAQ row alone holds a third of the phrases): right answers in blue,
    mistakes in red, so that one mistake out of sixteen is still seen."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import cm
    from matplotlib.figure import Figure

    blues, reds = cm.get_cmap("Blues"), cm.get_cmap("Reds")
    colours, dark = [], []
    for i, row in enumerate(matrix):
        total = sum(row) or 1
        colours.append([])
        dark.append([])
        for j, count in enumerate(row):
            share = count / total
            if not count:
                colour = (1.0, 1.0, 1.0, 1.0)
            elif i == j:
                colour = blues(0.25 + 0.75 * share)
            else:
                colour = reds(0.35 + 0.65 * min(1.0, share * 3))
            colours[-1].append(colour)
            # Dark cells get white digits (luminance below one half).
            dark[-1].append(0.2126 * colour[0] + 0.7152 * colour[1] + 0.0722 * colour[2] < 0.5)
    size = max(4.0, 0.42 * len(labels) + 2.5)
    figure = Figure(figsize=(size, size), dpi=100)
    axes = figure.subplots()
    axes.imshow(colours, interpolation="nearest")
    axes.set_xticks(range(len(labels)))
    axes.set_yticks(range(len(labels)))
    axes.set_xticklabels(labels, rotation=90, fontsize=8)
    axes.set_yticklabels(labels, fontsize=8)
    axes.set_xlabel("Что распознала модель")
    axes.set_ylabel("Правильное намерение")
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            if count:
                axes.text(j, i, str(count), ha="center", va="center", fontsize=7,
                          color="white" if dark[i][j] else "black")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def report(job_dir: Path, evaluations: Path, job: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The report of a finished job, or None when its step 3 did not run."""
    rows = load_rows(job_dir / CANDIDATE)
    if rows is None:
        return None
    baseline_info = job.get("baseline") or {}
    baseline = None
    if baseline_info.get("evaluation"):
        baseline = load_rows(evaluations / Path(baseline_info["evaluation"]).name)
    result = build(rows, baseline)
    result["new_examples"] = new_rows(job_dir, job)
    result["baseline_model"] = baseline_info.get("model") if baseline else None
    result["baseline_error"] = None if baseline else (baseline_info.get("error") or "сравнение недоступно")
    return result


def new_rows(job_dir: Path, job: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The job's new training phrases: their label, what the new model and the running one made of them."""
    data = read_json(job_dir / CANDIDATE) or {}
    before = {(b["text"], b["expected"]): b.get("before") for b in (job.get("new_before") or [])}
    shown = []
    for r in (Prediction.from_dict(d) for d in data.get("new") or []):
        expected, got = heldout.outcome(r)
        shown.append({"text": mask_line(r.text), "expected": expected, "now": got,
                      "before": before.get((r.text, expected)), "right": got == expected})
    return shown


def picture(job_dir: Path) -> Optional[bytes]:
    """The job's confusion matrix, drawn once and kept beside its predictions."""
    path = job_dir / PICTURE
    if path.exists():
        return path.read_bytes()
    rows = load_rows(job_dir / CANDIDATE)
    if rows is None:
        return None
    data = confusion_png(*heldout.confusion(rows))
    temp = path.with_suffix(".tmp")
    temp.write_bytes(data)
    temp.replace(path)
    return data


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workbench.evaluate")
    sub = parser.add_subparsers(dest="command", required=True)
    predict = sub.add_parser("predict", help="run a model over the held-out set, write its predictions as JSON")
    predict.add_argument("--model", type=Path, required=True)
    predict.add_argument("--out", type=Path, required=True)
    predict.add_argument("--held-out", type=Path, default=heldout.HELD_OUT)
    predict.add_argument("--extra", type=Path, help="JSON [[text, intent, key], …] to predict as well ('new')")
    args = parser.parse_args(argv)
    data = predict_file(args.model, args.out, args.held_out, args.extra)
    rows = [Prediction.from_dict(r) for r in data["rows"]]
    figures = heldout.summary(rows)
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
