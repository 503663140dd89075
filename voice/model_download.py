"""Voice models: where they live, how to fetch and verify them.

``python -m voice.model_download download`` (``make voice-models``) on a machine
with internet downloads the Russian Vosk model, checks its SHA-256 against
the pinned value below and unpacks it into ``models/voice/``. The Silero
voice is fetched only with ``--silero`` because of its licence (Creative
Commons *NonCommercial*: see docs/voice.md); it is one ``torch.package``
file.

``python -m voice.model_download check`` says what is there and what is missing,
with the expected paths; the voice components raise the same messages.

Checksums: a model whose ``sha256`` is pinned here is refused when the
download differs. A model with no pinned value is refused too, unless
``--pin`` is given: then the computed checksum is printed (and written to
``models/voice/checksums.json``) so that it can be pinned in this file by
review — trust on first use, made explicit.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from hotline import settings
from hotline.paths import ROOT



@dataclass(frozen=True)
class ModelSpec:
    name: str
    url: str
    sha256: Optional[str]
    kind: str  # "zip" (unpacked into a directory) or "file"
    target: str  # path under the models directory
    licence: str
    size_mb: int


VOSK_RU_SMALL = ModelSpec(
    name="vosk-model-small-ru-0.22",
    url="https://alphacephei.com/vosk/models/vosk-model-small-ru-0.22.zip",
    sha256=settings.get("VOICE_VOSK_SHA256") or None,  # pin after the first verified download (see --pin)
    kind="zip",
    target="vosk-model-small-ru-0.22",
    licence="Apache-2.0 (Alpha Cephei)",
    size_mb=45,
)
SILERO_RU_V4 = ModelSpec(
    name="silero v4_ru",
    url="https://models.silero.ai/models/tts/ru/v4_ru.pt",
    sha256=settings.get("VOICE_SILERO_SHA256") or None,
    kind="file",
    target="silero/v4_ru.pt",
    licence="CC BY-NC-SA 4.0 (Silero): non-commercial use only without a licence from Silero",
    size_mb=40,
)


def models_dir() -> Path:
    return Path(settings.get("VOICE_MODELS_DIR") or ROOT / "models" / "voice")


def vosk_model_path() -> Path:
    return Path(settings.get("VOICE_VOSK_MODEL") or models_dir() / VOSK_RU_SMALL.target)


def silero_model_path() -> Path:
    return Path(settings.get("VOICE_SILERO_MODEL") or models_dir() / SILERO_RU_V4.target)


def status() -> List[Dict[str, str]]:
    vosk = vosk_model_path()
    silero = silero_model_path()
    return [
        {"model": VOSK_RU_SMALL.name, "path": str(vosk),
         "present": "yes" if (vosk / "am" / "final.mdl").is_file() else "no", "needed": "speech recognition"},
        {"model": SILERO_RU_V4.name, "path": str(silero),
         "present": "yes" if silero.is_file() else "no", "needed": "only with VOICE_TTS=silero"},
    ]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(spec: ModelSpec, pin: bool = False, directory: Optional[Path] = None,
             opener=urllib.request.urlopen) -> Path:
    """Fetch, verify and install one model; returns its installed path."""
    directory = directory or models_dir()
    target = directory / spec.target
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        archive = Path(tmp) / Path(spec.url).name
        print(f"downloading {spec.url} (~{spec.size_mb} MB) …", flush=True)
        try:
            with opener(spec.url, timeout=60) as resp, open(archive, "wb") as out:
                shutil.copyfileobj(resp, out, 1 << 20)
        except OSError as error:
            raise SystemExit(
                f"cannot download {spec.url}: {error}.\nOn a machine without internet, copy the model by hand: "
                f"{spec.name} → {target}") from error
        digest = sha256_of(archive)
        if spec.sha256 and digest != spec.sha256:
            raise SystemExit(f"checksum mismatch for {spec.name}: expected {spec.sha256}, got {digest}; "
                             "the download is damaged or not the expected file")
        if not spec.sha256:
            if not pin:
                raise SystemExit(
                    f"no pinned checksum for {spec.name} (downloaded file sha256 {digest}). Check it against a "
                    "trusted source, then pin it in voice/model_download.py (or VOICE_*_SHA256), or rerun with --pin.")
            _record_checksum(directory, spec, digest)
            print(f"pinned {spec.name}: sha256 {digest} (recorded in {directory / 'checksums.json'})")
        if spec.kind == "zip":
            with zipfile.ZipFile(archive) as z:
                _safe_extract(z, Path(tmp) / "unpacked")
            unpacked = Path(tmp) / "unpacked"
            roots = [p for p in unpacked.iterdir() if p.is_dir()]
            source = roots[0] if len(roots) == 1 else unpacked
            if target.exists():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(source), target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(archive), target)
    print(f"{spec.name}: installed at {target} (sha256 {digest})")
    return target


def _safe_extract(archive: zipfile.ZipFile, into: Path) -> None:
    into = into.resolve()
    for member in archive.namelist():
        path = (into / member).resolve()
        if into not in path.parents and path != into:
            raise SystemExit(f"refusing to unpack {member!r}: it points outside the target directory")
    archive.extractall(into)


def _record_checksum(directory: Path, spec: ModelSpec, digest: str) -> None:
    path = directory / "checksums.json"
    data = json.loads(path.read_text()) if path.is_file() else {}
    data[spec.name] = {"url": spec.url, "sha256": digest}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m voice.model_download", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    get = sub.add_parser("download", help="download and verify the voice models")
    get.add_argument("--silero", action="store_true",
                     help="also the Silero voice (CC BY-NC-SA 4.0: non-commercial use only)")
    get.add_argument("--pin", action="store_true", help="accept and record the checksum of a model with none pinned")
    sub.add_parser("check", help="which models are present and where they are expected")
    args = parser.parse_args(argv)
    if args.command == "check":
        missing = 0
        for row in status():
            print(f"{row['model']:<28} {row['present']:<4} {row['path']}  ({row['needed']})")
            missing += row["present"] == "no" and "recognition" in row["needed"]
        return 1 if missing else 0
    download(VOSK_RU_SMALL, pin=args.pin)
    if args.silero:
        print(f"Silero licence: {SILERO_RU_V4.licence}")
        download(SILERO_RU_V4, pin=args.pin)
    return 0


if __name__ == "__main__":
    sys.exit(main())
