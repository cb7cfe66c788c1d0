"""The three real generator backends pass the same contract (slow: real weights).

- ``transformers``: the embedded Gemma 3 270M, assembled and converted under ``models/`` on first use;
- ``llama.cpp``: the same GGUF through llama-cpp-python;
- ``openai``: a real OpenAI-compatible server (``python -m llama_cpp.server`` on the bundled GGUF,
  started here on 127.0.0.1 and a free port), in ``chat`` and ``completions`` mode.

Run with ``pytest -m slow``. llama.cpp tests skip when llama-cpp-python is not installed, unless
``COPILOT_REQUIRE_LLAMA=1`` (set by ``.ci/run``) turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks._common import free_port, wait_for_http
from copilot.config import Settings
from copilot.errors import GeneratorError
from copilot.generators import GenerationParams, Generator, Prompt, make_generator, run_generation
from copilot.service import Copilot

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
REQUIRE_LLAMA = os.environ.get("COPILOT_REQUIRE_LLAMA") == "1"


def _need_llama() -> None:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        if REQUIRE_LLAMA:
            pytest.fail("llama-cpp-python is required here (COPILOT_REQUIRE_LLAMA=1)")
        pytest.skip("llama-cpp-python not installed (see requirements-llama.txt)")


@pytest.fixture(scope="module")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_")}
    return Settings.from_env(env, index_dir=tmp_path_factory.mktemp("gen") / "index", progress=False, models_dir=ROOT / "models")


@pytest.fixture(scope="module")
def gguf(base_settings: Settings) -> Path:
    from copilot.models import default_gguf

    return default_gguf(base_settings)


@pytest.fixture(scope="module")
def server(gguf: Path) -> Iterator[str]:
    _need_llama()
    port = free_port()
    log = open(gguf.parent / "llama_server_test.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_threads",
            "2",
            "--n_ctx",
            "2048",
            "--model_alias",
            "gemma-3-270m",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        if not wait_for_http(f"{url}/models", proc, 120, ready=lambda body: bool(json.loads(body)["data"])):
            raise RuntimeError(f"llama_cpp.server did not start (see {log.name})")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


BACKENDS = ["transformers", "llama.cpp", "openai-chat", "openai-completions"]


@pytest.fixture(scope="module")
def generators(base_settings: Settings, request: pytest.FixtureRequest) -> dict[str, Generator]:
    return {}


def _make(name: str, base_settings: Settings, request: pytest.FixtureRequest, cache: dict[str, Generator]) -> Generator:
    if name in cache:
        return cache[name]
    if name.startswith("llama") or name.startswith("openai"):
        _need_llama()
    if name.startswith("openai"):
        url = request.getfixturevalue("server")
        settings = base_settings.replace(openai_base_url=url, openai_api=name.split("-", 1)[1], openai_timeout=120.0)
        gen = make_generator(settings, "openai")
    else:
        gen = make_generator(base_settings, name)
    assert gen is not None
    cache[name] = gen
    return gen


PROMPT = Prompt(
    system="Réponse d'un conseiller. Elle cite la source [1].",
    user="Source [1] — Livraison\nLa livraison coûte 25 MAD.\n\nMessage du client: Combien coûte la livraison ?\n\nRéponse du conseiller:",
    prefix="Bonjour, ",
)


@pytest.mark.parametrize("name", BACKENDS)
def test_generation_contract(
    name: str, base_settings: Settings, request: pytest.FixtureRequest, generators: dict[str, Generator]
) -> None:
    gen = _make(name, base_settings, request, generators)
    pieces: list[str] = []
    out = run_generation(gen, PROMPT, GenerationParams(max_new_tokens=12), pieces.append)
    assert out.text.strip() and "".join(pieces) == out.text
    assert 0 < out.new_tokens <= 12
    assert 0 < out.first_token_ms <= out.generation_ms
    assert out.model == gen.model_id and out.model.split(":")[0] in ("transformers", "llama.cpp", "openai")
    if getattr(gen, "continues_prefix", True):
        assert out.text.startswith("Bonjour, ")
    # greedy decoding is reproducible
    again = run_generation(gen, PROMPT, GenerationParams(max_new_tokens=12))
    assert again.text == out.text
    # stop strings cut the text
    stopped = run_generation(gen, PROMPT, GenerationParams(max_new_tokens=40, stop=(" ",)))
    assert " " not in stopped.text[len("Bonjour, ") if stopped.text.startswith("Bonjour, ") else 0 :]


@pytest.fixture(scope="module")
def kb_index(base_settings: Settings) -> Path:
    idx = base_settings.index_dir
    Copilot(base_settings).build_index([ROOT / "knowledge_base"])
    return idx


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize(
    ("message", "language", "reply_language"),
    [
        ("Bonjour, combien coûte la livraison ?", "fr", "fr"),
        ("شحال كيكلف التوصيل؟", "ary", "ary"),
        ("salam, ch7al kaytkhlas livraison?", "ary-Latn", "fr"),
        ("¿Cuánto cuesta el envío?", "es", "es"),
    ],
)
def test_reply_contract(
    name: str,
    message: str,
    language: str,
    reply_language: str,
    base_settings: Settings,
    kb_index: Path,
    request: pytest.FixtureRequest,
    generators: dict[str, Generator],
) -> None:
    gen = _make(name, base_settings, request, generators)
    cp = Copilot(base_settings, index_dir=kb_index, generator=gen)
    d = cp.draft_reply(message)
    out = d.to_dict()
    assert out["language"] == language and out["reply_language"] == reply_language
    assert out["path"] in ("generated", "extractive") and not out["no_match"]
    assert out["citations"] and all(c["n"] == i for i, c in enumerate(out["citations"], 1))
    assert "[1]" in out["reply"] and d.citations[0].article_id in (
        "faq-fr-001",
        "shop-ar-delivery-fees",
        "shop-es-gastos-envio",
        "faq-ar-002",
        "shop-fr-frais-livraison",
    )
    assert out["model"] == gen.model_id
    assert out["timings"]["new_tokens"] > 0 and out["timings"]["first_token_ms"] > 0


def test_unreachable_server_is_a_clear_error(base_settings: Settings) -> None:
    port = free_port()
    settings = base_settings.replace(
        openai_base_url=f"http://127.0.0.1:{port}/v1", openai_retries=0, openai_timeout=3.0, openai_model="x"
    )
    gen = make_generator(settings, "openai")
    assert gen is not None
    with pytest.raises(GeneratorError, match="cannot reach the generation server"):
        run_generation(gen, PROMPT, GenerationParams(max_new_tokens=4))


def test_transformers_prompt_lookup_is_exact(base_settings: Settings) -> None:
    """In float, prompt-lookup decoding gives the same greedy text as token-by-token decoding, in fewer passes.

    (With int8 dynamic quantisation the activation scale depends on the tokens in a pass, so the two can
    differ slightly; the float model makes the check exact.)
    """
    text = "Source [1]: La livraison coûte 25 MAD par commande, partout au Maroc. Elle est gratuite dès 300 MAD.\nRéponse: La livraison coûte"
    p = Prompt(system="", user=text, prefix="")
    fast = make_generator(base_settings.replace(generator_lookup=6, generator_quantize="none"), "transformers")
    slow = make_generator(base_settings.replace(generator_lookup=0, generator_quantize="none"), "transformers")
    assert fast is not None and slow is not None
    a = run_generation(fast, p, GenerationParams(max_new_tokens=24))
    b = run_generation(slow, p, GenerationParams(max_new_tokens=24))
    assert a.text == b.text
    assert fast.last_stats["forward_passes"] <= slow.last_stats["forward_passes"]  # type: ignore[attr-defined]


def test_transformers_trimmed_vocabulary(base_settings: Settings) -> None:
    """The trimmed output layer (tokens of the five languages + the prompt's own) gives the same greedy text on a
    grounded prompt, and can still copy a token that only the prompt contains."""
    from copilot.generators.hf import _kept_vocabulary

    rare = "Zqxwvjk-77"  # a made-up code: its pieces are unlikely to be in the kept vocabulary
    text = f"Source [1]: Le code de suivi est {rare}. La livraison coûte 25 MAD.\nRéponse: Votre code de suivi est"
    p = Prompt(system="", user=text, prefix="")
    full = make_generator(base_settings.replace(generator_quantize="none"), "transformers")
    trimmed = make_generator(base_settings.replace(generator_quantize="none", generator_vocab="trimmed"), "transformers")
    assert full is not None and trimmed is not None
    a = run_generation(full, p, GenerationParams(max_new_tokens=12))
    b = run_generation(trimmed, p, GenerationParams(max_new_tokens=12))
    assert a.text == b.text and rare in b.text
    kept = _kept_vocabulary(trimmed._tok, base_settings.models_dir)  # type: ignore[attr-defined]
    assert 5_000 < len(kept) < 60_000  # a small fraction of the 262k vocabulary
    assert trimmed.model_id.endswith("-trimmed")


@pytest.mark.parametrize("backend", ["transformers", "transformers-trimmed", "llama.cpp"])
def test_copy_bias_pulls_generation_towards_the_source(base_settings: Settings, backend: str) -> None:
    """``copy_bias`` adds to the logit of every token of ``copy_source``: a large bias makes the model emit only
    those tokens, and a zero bias changes nothing."""
    if backend == "llama.cpp":
        _need_llama()
    settings = base_settings.replace(generator_vocab="trimmed" if backend.endswith("trimmed") else "full")
    gen = make_generator(settings, backend.removesuffix("-trimmed"))
    assert gen is not None
    source = "Votre colis arrive jeudi au point relais de Casablanca."
    p = Prompt(system="", user="Write a short story about a dragon.\nStory:", prefix="")
    plain = run_generation(gen, p, GenerationParams(max_new_tokens=16))
    zero = run_generation(gen, p, GenerationParams(max_new_tokens=16, copy_bias=0.0, copy_source=source))
    assert zero.text == plain.text
    pulled = run_generation(gen, p, GenerationParams(max_new_tokens=16, copy_bias=60.0, copy_source=source))
    chars = set(source)  # only the source's tokens can win, so only its characters appear
    assert pulled.text.strip() and set("".join(pulled.text.split())) <= chars, pulled.text
    assert not set("".join(plain.text.split())) <= chars, plain.text
