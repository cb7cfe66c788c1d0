"""Tuning data is rendered with the runtime's own prompt builders (one source of truth)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot.reply import build_prompt, stop_strings
from copilot.rewrite import rewrite_prompt, translate_prompt
from copilot.summarize import summary_prompt
from copilot.tune import _batches, held_back, load_examples, parallel_examples, split, xquad_examples


def _write(d: Path, folder: str, row: dict[str, object]) -> None:
    (d / folder).mkdir(parents=True, exist_ok=True)
    with (d / folder / "part01.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")


def test_examples_render_like_the_runtime(tmp_path: Path) -> None:
    reply = {
        "id": "r-0001",
        "language": "fr",
        "reply_language": "fr",
        "sources": [{"title": "Frais", "text": "La livraison coûte 25 MAD."}],
        "message": "Combien ?",
        "context": "",
        "answerable": True,
        "answer": "la livraison coûte 25 MAD [1].",
    }
    summ = {
        "id": "s-0010",
        "language": "fr",
        "summary_language": "en",
        "turns": [{"speaker": "customer", "text": "Ma commande est en retard"}, {"speaker": "agent", "text": "Je vérifie."}],
        "summary": "Customer says the order is late. Agent checks.",
    }
    rew = {
        "id": "w-0002",
        "language": "fr",
        "task": "shorter",
        "target_language": "fr",
        "source_text": "x",
        "input": "Bonjour, la livraison coûte 25 MAD [1]. Bonne journée.",
        "output": "Bonjour, 25 MAD [1].",
    }
    _write(tmp_path, "replies", reply)
    _write(tmp_path, "summaries", summ)
    _write(tmp_path, "rewrites", rew)
    (tmp_path / "replies" / "part01.jsonl").open("a").write("{broken\n")
    ex = {e.kind: e for e in load_examples(tmp_path)}
    assert ex["reply"].prompt == build_prompt("fr", [("Frais", "La livraison coûte 25 MAD.")], "Combien ?", shots=0).as_text()
    assert ex["reply"].prompt.count("Source [1]") == 1  # tuned on the zero-shot prompt the tuned runtime uses
    assert ex["reply"].prompt.endswith("Bonjour, ") and ex["reply"].target == "la livraison coûte 25 MAD [1].\n"
    assert "\n" in stop_strings("fr")  # the runtime stops where the target ends
    assert (
        ex["summary"].prompt
        == summary_prompt([("customer", "Ma commande est en retard"), ("agent", "Je vérifie.")], "en").as_text()
    )
    assert ex["summary"].target.startswith("says the order is late")
    assert ex["rewrite"].prompt == rewrite_prompt(rew["input"], "shorter", "fr").as_text()  # type: ignore[arg-type]
    _train, held = split(list(ex.values()))
    assert [e.id for e in held] == ["s-0010"] and held_back("r01-0120") and not held_back("r01-0121")


def test_parallel_messages_become_translation_examples_held_back_by_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "parallel").mkdir()
    head = "id\tdomain\tdarija\tarabizi\tmsa\tfr\ten\tes"
    rows = [
        "p01-001\tbanking\tبغيت نفعّل الكارط\tbghit nactivi lcarte\tأريد تفعيل بطاقتي\tJe veux activer ma carte\tI want to activate my card\tQuiero activar mi tarjeta",
        "p01-010\tbanking\tفين وصلات الكوموند؟\tfin wslat lcommande?\tأين وصل طلبي؟\tOù en est ma commande ?\tWhere is my order?\t¿Dónde está mi pedido?",
        "p01-011\tbanking\tmissing columns",
    ]
    (tmp_path / "parallel" / "part01.tsv").write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    ex = parallel_examples(tmp_path)
    assert "part01.tsv:4 skipped" in capsys.readouterr().err
    assert [e.id for e in ex] == ["tr1-p01-001", "tr2-p01-001", "tr1-p01-010", "tr2-p01-010"]
    assert all(e.kind == "translate" and e.target.endswith("\n\n\n") for e in ex)
    first = ex[0]  # from Arabizi (even line of the file) into French, English or MSA
    assert first.prompt in {translate_prompt("bghit nactivi lcarte", t).as_text() for t in ("fr", "en", "ar")}
    assert first.target.strip() in {"Je veux activer ma carte", "I want to activate my card", "أريد تفعيل بطاقتي"}
    assert "فين وصلات الكوموند؟" in ex[2].prompt  # Darija in Arabic script on odd lines
    assert [e.id for e in split(ex)[1]] == ["tr1-p01-010", "tr2-p01-010"]  # a row is held back whole
    assert parallel_examples(tmp_path) == ex  # seeded
    assert load_examples(tmp_path) == [] and load_examples(tmp_path, translations=True) == ex  # opt-in (--translations)


def test_the_shipped_tuning_data_renders(tmp_path: Path) -> None:
    examples = load_examples()
    assert all(e.prompt and e.target.strip() for e in examples)


def test_xquad_examples_copy_the_answer_sentence_and_hold_back_eval_paragraphs(tmp_path: Path) -> None:
    folder = tmp_path / "xquad"
    folder.mkdir()
    paras = [
        {"pid": 5, "lang": "en", "title": "Port", "context": "The port opened in 1901. It has four docks."},
        {
            "pid": 61,
            "lang": "en",
            "title": "Port",
            "context": "The harbour has 12 cranes. Ferries leave at 9 am. The museum is closed on Mondays.",
        },
        {"pid": 62, "lang": "en", "title": "Port", "context": "The lighthouse is 40 metres tall. It was painted red."},
    ]
    qs = [
        {"qid": "a1", "lang": "en", "question": "When did the port open?", "pid": 5, "answers": ["1901"]},
        {"qid": "a2", "lang": "en", "question": "How many cranes are there?", "pid": 61, "answers": ["12"]},
        {"qid": "a3", "lang": "en", "question": "How tall is the lighthouse?", "pid": 62, "answers": ["40 metres"]},
    ]
    (folder / "paragraphs.jsonl").write_text("\n".join(json.dumps(p) for p in paras))
    (folder / "questions.jsonl").write_text("\n".join(json.dumps(q) for q in qs))
    ex = xquad_examples(tmp_path, seed=1)
    assert {e.id for e in ex} <= {"xq-a2", "xq-a3"}  # paragraph 5 is evaluation data, never tuned on
    for e in ex:
        assert e.prompt.endswith("Hello, ") and e.prompt.count("Source [1]") == 1
        if e.target.startswith("unfortunately"):
            assert "[1]" not in e.target
        else:
            assert e.target.endswith("[1].\n") and any(a in e.target for q in qs for a in q["answers"])


def test_batches_are_seeded_and_group_similar_lengths() -> None:
    import random

    items = [([0] * n, 1) for n in range(1, 200)]
    a = list(_batches(items, 4, random.Random(3)))
    b = list(_batches(items, 4, random.Random(3)))
    assert a == b and sorted(len(x[0]) for batch in a for x in batch) == list(range(1, 200))
    spread = [max(len(x[0]) for x in batch) - min(len(x[0]) for x in batch) for batch in a]
    assert sum(spread) / len(spread) < 20  # random batches would spread ~100 tokens


def _tiny_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A tiny random Gemma-3 model and 12 reply examples; the common arguments of a tuning run on them."""
    from tests.test_models import tiny_gemma

    tiny_gemma(tmp_path / "models" / "tiny")
    monkeypatch.setenv("COPILOT_MODELS_DIR", str(tmp_path / "models"))
    data = tmp_path / "data"
    for i in range(1, 13):
        _write(
            data,
            "replies",
            {
                "id": f"r-{i:04d}",
                "language": "fr",
                "reply_language": "fr",
                "sources": [
                    {"title": "Frais", "text": f"La livraison coûte {20 + i} MAD. Le retrait en point relais est gratuit."}
                ],
                "message": "Combien coûte la livraison ?",
                "context": "",
                "answerable": True,
                "answer": f"la livraison coûte {20 + i} MAD [1].",
            },
        )
    common = ["--data", str(data), "--model", "tiny", "--no-shared", "--epochs", "2", "--batch", "4", "--rank", "4"]
    return [*common, "--save-every", "1", "--eval-examples", "2", "--log-every", "1"]


@pytest.mark.slow
def test_tuning_is_seeded_and_an_interrupted_run_resumes_to_the_same_adapter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs with the same seed give the same adapter; a run stopped after 2 steps and resumed gives it too."""
    import torch
    from safetensors.torch import load_file

    from copilot.tune import main

    common = _tiny_run(tmp_path, monkeypatch)
    a, b = tmp_path / "a", tmp_path / "b"
    assert main([*common, "--out", str(a)]) == 0
    assert main([*common, "--out", str(b), "--max-steps", "2"]) == 0
    assert not (b / "adapter_model.safetensors").exists() and (b / "checkpoint" / "state.json").is_file()
    assert main([*common, "--out", str(b), "--resume"]) == 0
    wa, wb = load_file(str(a / "adapter_model.safetensors")), load_file(str(b / "adapter_model.safetensors"))
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    meta = json.loads((a / "training.json").read_text())
    assert meta["train_examples"] == 11 and len(meta["history"]) == 2  # r-0010 is held back
    assert "Gemma Terms of Use" in (a / "README.md").read_text()
    assert json.loads((a / "adapter_config.json").read_text())["base_model_name_or_path"] == "tiny"


@pytest.mark.slow
def test_a_training_pack_trains_the_same_adapter_without_model_or_tokenizer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--pack`` then ``--from-pack`` (what a GPU server without the model packages runs) gives the adapter of a
    direct ``--vocab trimmed`` run, and that adapter loads on the full model."""
    import torch
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    from copilot.tune import main

    common = _tiny_run(tmp_path, monkeypatch)
    direct, packed, pack = tmp_path / "direct", tmp_path / "packed", tmp_path / "pack"
    assert main([*common, "--vocab", "trimmed", "--out", str(direct)]) == 0
    assert main([*common, "--pack", str(pack)]) == 0
    cfg = json.loads((pack / "config.json").read_text())
    assert cfg["vocab_size"] < 262_144 and cfg["pad_token_id"] == 0
    monkeypatch.setenv("COPILOT_MODELS_DIR", str(tmp_path / "nowhere"))  # the pack needs no model folder
    assert main(["--from-pack", str(pack), "--out", str(packed), *common[4:]]) == 0
    wa, wb = load_file(str(direct / "adapter_model.safetensors")), load_file(str(packed / "adapter_model.safetensors"))
    assert wa.keys() == wb.keys() and all(torch.allclose(wa[k], wb[k], atol=1e-4) for k in wa)
    assert json.loads((packed / "training.json").read_text())["vocab"] == "trimmed"
    full = AutoModelForCausalLM.from_pretrained(str(tmp_path / "models" / "tiny"))
    assert PeftModel.from_pretrained(full, str(packed)) is not None
