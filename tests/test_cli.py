from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from copilot.cli import main


def _index(kb: Path, idx: Path) -> None:
    assert main(["index", str(kb), "--index", str(idx), "--embedder", "hashing", "--no-progress"]) == 0


def test_index_then_search_json(small_kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    idx = tmp_path / "idx"
    _index(small_kb, idx)
    out = capsys.readouterr().out
    assert "5 articles" in out
    assert main(["search", "--index", str(idx), "--json", "-k", "2", "ma facture est trop élevée"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["language"] == "fr" and isinstance(data["no_match"], bool)
    assert len(data["hits"]) == 2
    hit = data["hits"][0]
    assert {"article_id", "title", "score", "language", "chunk_id", "text"} <= set(hit)
    assert hit["article_id"] == "facture-elevee"


def test_human_output_and_stdin(
    small_kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    idx = tmp_path / "idx"
    _index(small_kb, idx)
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("délai de livraison".encode())))
    assert main(["search", "--index", str(idx), "-"]) == 0
    out = capsys.readouterr().out
    assert "language: fr" in out and "[1] Livraison" in out


def test_batch_search_records_bad_rows(small_kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    idx = tmp_path / "idx"
    _index(small_kb, idx)
    q = tmp_path / "q.jsonl"
    q.write_bytes(
        b'{"id": "a", "text": "retourner un produit"}\n'
        b"not json\n"
        b'{"id": "c", "text": ""}\n'
        b'{"id": "d", "text": "\xff\xfe bad utf8"}\n'
        b'{"id": "e", "text": "mot de passe wifi"}\n'
    )
    out = tmp_path / "hits.jsonl"
    assert main(["search", "--index", str(idx), "--input", str(q), "--output", str(out)]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "2", "c", "4", "e"]
    assert rows[0]["hits"][0]["article_id"] == "faq-2" and "no_match" in rows[0] and rows[0]["language"] == "fr"
    assert "error" in rows[1] and "error" in rows[2] and "error" in rows[3]
    assert "2 queries, 3 errors" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "--index", "{tmp}/none", "facture"], "copilot index"),
        (["index", "{tmp}/missing-folder", "--index", "{tmp}/i"], "does not exist"),
        (["search", "--index", "{tmp}/none", "--input", "{tmp}/nofile.jsonl"], "copilot index"),
    ],
)
def test_user_errors_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and message in err and "Traceback" not in err


def test_empty_query_and_wrong_embedder(small_kb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    idx = tmp_path / "idx"
    _index(small_kb, idx)
    assert main(["search", "--index", str(idx), "   "]) == 1
    assert "empty" in capsys.readouterr().err
    assert main(["search", "--index", str(idx), "--embedder", "hashing-64", "facture"]) == 1
    err = capsys.readouterr().err
    assert "Error:" in err and "copilot index" in err
    assert main(["search", "--index", str(idx), "--embedder", "nonsense", "facture"]) == 1
    assert "unknown embedder" in capsys.readouterr().err


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "copilot index" in capsys.readouterr().out
