from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from copilot.config import Settings
from copilot.embed import HashingEmbedder
from copilot.errors import IndexCorrupted, IndexMismatch, IndexNotFound
from copilot.index import KBIndex, read_manifest
from copilot.indexer import build_index
from copilot.service import Copilot


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__(128)
        self.embedded = 0

    def embed_documents(self, texts):  # type: ignore[no-untyped-def]
        self.embedded += len(texts)
        return super().embed_documents(texts)


def test_build_writes_self_describing_folder(small_kb: Path, tmp_path: Path, settings: Settings) -> None:
    idx = tmp_path / "idx"
    rep = build_index([small_kb], idx, HashingEmbedder(128), settings, embedder_spec="hashing-128")
    assert {p.name for p in idx.iterdir()} == {"manifest.json", "index.faiss", "chunks.jsonl"}
    m = json.loads((idx / "manifest.json").read_text())
    assert m["format"] == "copilot-index" and m["format_version"] == 1
    assert m["embedder"] == {"spec": "hashing-128", "model_id": "hashing-128", "dim": 128}
    assert m["dimension"] == 128 and m["chunking"]["chunk_size"] == settings.chunk_size
    assert len(m["kb_hash"]) == 64 and len(m["files"]) == 4
    assert rep.articles == 5 and rep.embedded == rep.chunks
    loaded = KBIndex.load(idx)
    assert len(loaded.chunks) == rep.chunks
    assert np.allclose(np.linalg.norm(loaded.vectors, axis=1), 1.0, atol=1e-5)
    assert "pickle" not in (idx / "chunks.jsonl").read_text()


def test_incremental_reindex(small_kb: Path, tmp_path: Path, settings: Settings) -> None:
    idx = tmp_path / "idx"
    emb = CountingEmbedder()
    build_index([small_kb], idx, emb, settings)
    first = emb.embedded
    emb.embedded = 0
    rep = build_index([small_kb], idx, emb, settings)
    assert emb.embedded == 0 and rep.embedded == 0 and rep.reused == rep.chunks and rep.files_reparsed == 0

    (small_kb / "wifi.txt").write_text("Pour changer le code Wi-Fi, ouvrez l'interface de la box.\n", encoding="utf-8")
    rep = build_index([small_kb], idx, emb, settings)
    assert rep.files_reparsed == 1 and rep.embedded == 2  # its body chunk + its centroid view
    assert 0 < emb.embedded < first

    (small_kb / "faq.csv").unlink()
    emb.embedded = 0
    rep = build_index([small_kb], idx, emb, settings)
    assert emb.embedded == 0 and rep.removed == 4 and rep.articles == 3
    ids = {c.article_id for c in KBIndex.load(idx).chunks}
    assert "faq-1" not in ids and "facture-elevee" in ids


def test_duplicate_article_ids_are_refused(small_kb: Path, tmp_path: Path, settings: Settings) -> None:
    (small_kb / "copy.md").write_text("---\nid: facture-elevee\ntitle: Copie\n---\ntexte", encoding="utf-8")
    from copilot.errors import InputError

    with pytest.raises(InputError, match="facture-elevee"):
        build_index([small_kb], tmp_path / "idx", HashingEmbedder(64), settings)


def test_missing_and_corrupted_index(small_kb: Path, tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(IndexNotFound, match="copilot index"):
        KBIndex.load(tmp_path / "nope")
    idx = tmp_path / "idx"
    build_index([small_kb], idx, HashingEmbedder(64), settings)
    with (idx / "chunks.jsonl").open("a") as f:
        f.write('{"broken": true}\n')
    with pytest.raises(IndexCorrupted, match="--rebuild"):
        KBIndex.load(idx)
    (idx / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorrupted, match="manifest"):
        KBIndex.load(idx)


def test_embedder_mismatch_says_how_to_rebuild(small_kb: Path, tmp_path: Path, settings: Settings) -> None:
    idx = tmp_path / "idx"
    build_index([small_kb], idx, HashingEmbedder(64), settings, embedder_spec="hashing-64")
    cp = Copilot(settings, index_dir=idx, embedder=HashingEmbedder(128))
    with pytest.raises(IndexMismatch, match="copilot index"):
        cp.search("facture")
    # without an explicit embedder, the index's own is used
    assert Copilot(settings, index_dir=idx).search("facture").hits


def test_failed_save_keeps_previous_index(
    small_kb: Path, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    idx = tmp_path / "idx"
    build_index([small_kb], idx, HashingEmbedder(64), settings)
    before = (idx / "manifest.json").read_text()
    (small_kb / "new.txt").write_text("Nouvel article sur les horaires.", encoding="utf-8")
    import faiss

    def boom(*a, **k):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(faiss, "write_index", boom)
    with pytest.raises(OSError):
        build_index([small_kb], idx, HashingEmbedder(64), settings)
    assert (idx / "manifest.json").read_text() == before
    assert KBIndex.load(idx).chunks
    assert not list(tmp_path.glob("idx.building-*"))


KILL_SCRIPT = r"""
import sys, time
import faiss
from copilot.config import Settings
from copilot.embed import HashingEmbedder
from copilot.indexer import build_index
real = faiss.write_index
def slow(index, path):
    print("WRITING", flush=True)
    time.sleep(30)
    real(index, path)
faiss.write_index = slow
build_index([sys.argv[1]], sys.argv[2], HashingEmbedder(64), Settings.from_env(progress=False))
"""


def test_kill_9_mid_build_leaves_previous_index_usable(small_kb: Path, tmp_path: Path, settings: Settings) -> None:
    idx = tmp_path / "idx"
    build_index([small_kb], idx, HashingEmbedder(64), settings)
    n_before = len(KBIndex.load(idx).chunks)
    (small_kb / "extra.txt").write_text("Un article de plus sur la garantie.", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(small_kb), str(idx)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    assert proc.stdout is not None
    deadline = time.time() + 60
    while time.time() < deadline and "WRITING" not in proc.stdout.readline():
        pass
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(KBIndex.load(idx).chunks) == n_before
    assert read_manifest(idx) is not None
    # the next build succeeds and picks up the new file
    rep = build_index([small_kb], idx, HashingEmbedder(64), settings)
    assert rep.articles == 6


def test_interrupted_swap_is_recovered(small_kb: Path, tmp_path: Path, settings: Settings) -> None:
    idx = tmp_path / "idx"
    build_index([small_kb], idx, HashingEmbedder(64), settings)
    os.rename(idx, tmp_path / "idx.previous")  # crash between the two renames of a swap
    assert KBIndex.load(idx).chunks
