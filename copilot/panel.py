"""The agent panel and team-lead view (Gradio), over one ``Copilot`` and one ``FeedbackStore``.

Handlers live in :class:`Panel` as plain methods (unit-tested without a server); :func:`build_app` lays
them out and names the API endpoints ``/draft_reply``, ``/search``, ``/summarize`` and ``/feedback``
for ``gradio_client``. ``copilot serve`` launches it on 127.0.0.1.
"""

import html
import json
import queue
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot.errors import CopilotError

if TYPE_CHECKING:
    import gradio as gr

    from copilot.feedback import FeedbackStore
    from copilot.reply import Draft
    from copilot.service import Copilot

CSS = """
textarea, .copilot-rtl { unicode-bidi: plaintext; text-align: start; }
.badge { display: inline-block; padding: 2px 10px; margin: 2px 4px 2px 0; border-radius: 12px; font-size: 0.85em;
         background: #eef2ff; color: #3730a3; }
.badge.neg { background: #fee2e2; color: #991b1b; } .badge.pos { background: #dcfce7; color: #166534; }
.badge.warn { background: #fef3c7; color: #92400e; }
.src { border-left: 3px solid #6366f1; padding: 4px 10px; margin: 6px 0; }
.src .meta { color: #6b7280; font-size: 0.8em; }
.nomatch { background: #fef3c7; padding: 8px 12px; border-radius: 8px; }
"""
LANG_NAMES = {
    "fr": "Français",
    "ar": "العربية",
    "ary": "Darija (الدارجة)",
    "ary-Latn": "Darija (Arabizi)",
    "es": "Español",
    "en": "English",
}


def _badges(draft: "Draft | None", language: str, sentiment: str, category: str, confidence: float) -> str:
    sent_cls = {"negative": "neg", "positive": "pos"}.get(sentiment, "")
    parts = [
        f'<span class="badge" data-testid="lang">{html.escape(LANG_NAMES.get(language, language))}</span>',
        f'<span class="badge {sent_cls}" data-testid="sentiment">sentiment: {html.escape(sentiment)}</span>',
        f'<span class="badge" data-testid="category">intent: {html.escape(category or "—")}</span>',
        f'<span class="badge">match {confidence:.2f}</span>',
    ]
    if draft is not None:
        parts.append(f'<span class="badge" data-testid="path">draft: {html.escape(draft.path)}</span>')
    return "".join(parts)


def _sources_html(draft: "Draft") -> str:
    if draft.no_match:
        return (
            '<div class="nomatch" data-testid="nomatch">The knowledge base has no answer to this message. The draft is a '
            "polite holding reply: check with a colleague or transfer, and the question is logged as a KB gap.</div>"
        )
    out = []
    for c in draft.citations:
        link = f' · <a href="{html.escape(c.url)}" target="_blank">open</a>' if c.url else ""
        out.append(
            f'<div class="src" id="src-{c.n}" dir="auto"><b>[{c.n}] {html.escape(c.title)}</b>'
            f'<div class="meta">{html.escape(c.article_id)} · {html.escape(c.language)}{link}</div>'
            f"<div>{html.escape(c.text[:600])}</div></div>"
        )
    others = [h for h in draft.hits if h.article_id not in {c.article_id for c in draft.citations}][:3]
    if others:
        out.append("<details><summary>Other passages</summary>")
        for h in others:
            out.append(
                f'<div class="src" dir="auto"><b>{html.escape(h.title)}</b><div class="meta">{html.escape(h.article_id)} · '
                f"{html.escape(h.language)} · score {h.score:.2f}</div><div>{html.escape(h.text[:300])}</div></div>"
            )
        out.append("</details>")
    return "".join(out)


def _looks_like_conversation(text: str) -> bool:
    return len(re.findall(r"(?im)^\s*(customer|client|agent|conseiller|cliente|agente|العميل|الموظف)\s*:", text)) >= 2


class Panel:
    """The panel's behaviour, independent of Gradio."""

    def __init__(self, copilot: "Copilot", store: "FeedbackStore", kb_dirs: list[Path] | None = None) -> None:
        self.copilot = copilot
        self.store = store
        self.kb_dirs = kb_dirs or []
        self.upload_dir = copilot.settings.models_dir / "uploads"
        #: user -> role (``agent`` sees the agent tab only; ``lead`` sees everything); empty without logins
        self.roles: dict[str, str] = {}

    # ------------------------------------------------------------------ agent
    def draft(
        self, message: str, agent: str = "", on_text: Any = None, on_extractive: Any = None
    ) -> tuple["Draft", dict[str, Any]]:
        """Draft a reply, record it; returns the draft and the panel state."""
        from copilot.sentiment import sentiment_label

        if _looks_like_conversation(message):
            from copilot.summarize import parse_conversation

            turns = [{"speaker": s, "text": t} for s, t in parse_conversation(message)]
            d = self.copilot.draft_reply(turns=turns, on_text=on_text, on_extractive=on_extractive)
        else:
            d = self.copilot.draft_reply(message, on_text=on_text, on_extractive=on_extractive)
        category = (d.hits[0].chunk.category if d.hits and not d.no_match else "") or ("no KB answer" if d.no_match else "")
        draft_id = self.store.record_draft(message, d, agent=agent, category=category)
        state = {
            "draft_id": draft_id,
            "reply": d.reply,
            "extractive": d.extractive_reply,
            "language": d.reply_language,
            "message": message,
            "citations": [c.to_dict(with_text=True) for c in d.citations],
            "sentiment": sentiment_label(message),
            "category": category,
        }
        return d, state

    def rewrite(self, text: str, style: str, state: dict[str, Any]) -> tuple[str, str]:
        sources = [c.get("text", "") for c in state.get("citations", [])]
        r = self.copilot.rewrite(text, style, language=state.get("language"), sources=sources)
        note = "" if r.path == "generated" else f"({r.note})"
        return r.text, note

    def translate(self, text: str, target: str, state: dict[str, Any]) -> tuple[str, str]:
        r = self.copilot.translate(text, target, citations=state.get("citations", []), message=state.get("message"))
        return r.text, r.note

    def decide(self, state: dict[str, Any], decision: str, final_text: str, reason: str, agent: str = "") -> str:
        if not state or "draft_id" not in state:
            raise CopilotError("draft a reply first")
        if decision == "edited" and final_text.strip() == state.get("reply", "").strip():
            decision = "accepted"
        self.store.record_decision(int(state["draft_id"]), decision, final_text=final_text, reason=reason, agent=agent)
        return {
            "accepted": "Accepted ✔",
            "edited": "Accepted after edit ✔",
            "rejected": "Rejected — thanks, the reason is logged.",
        }[decision]

    # ------------------------------------------------------------------ lead
    def summarize(self, conversation: str, language: str = "", conversation_id: str = "") -> dict[str, Any]:
        s = self.copilot.summarize_conversation(conversation, language=language or None)
        sid = self.store.record_summary(conversation_id or f"panel-{abs(hash(conversation)) % 10**8}", s)
        return {"summary_id": sid, **s.to_dict()}

    def import_summaries(self, path: str) -> int:
        from copilot.summarize import Summary

        n = 0
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(row, dict) or "error" in row or "summary" not in row:
                continue
            s = Summary(
                summary=row.get("summary", ""),
                issue=row.get("issue", ""),
                actions=list(row.get("actions", [])),
                resolution=dict(row.get("resolution", {})),
                next_steps=list(row.get("next_steps", [])),
                sentiment=dict(row.get("sentiment", {})),
                category=row.get("category", ""),
                language=row.get("language", ""),
                summary_language=row.get("summary_language", ""),
                path=row.get("path", "extractive"),
            )
            self.store.record_summary(str(row.get("id", n)), s)
            n += 1
        return n

    def gap_groups(self, threshold: float = 0.6) -> list[dict[str, Any]]:
        """No-match questions grouped by similarity (greedy clustering on the embedder's cosine)."""
        gaps = self.store.gaps()
        if not gaps:
            return []
        import numpy as np

        emb = self.copilot._summary_embedder()
        texts = [g["message"] for g in gaps]
        if emb is None:
            return [{"topic": t[:80], "count": 1, "examples": [t], "languages": [g["language"]]} for t, g in zip(texts, gaps)]
        v = np.asarray(emb.embed_queries(texts), dtype=np.float32)
        groups: list[dict[str, Any]] = []
        centers: list[Any] = []
        for i, t in enumerate(texts):
            sims = [float(c @ v[i]) for c in centers]
            j = int(np.argmax(sims)) if sims else -1
            if j >= 0 and sims[j] >= threshold:
                groups[j]["count"] += 1
                groups[j]["examples"].append(t)
                groups[j]["languages"].append(gaps[i]["language"])
            else:
                centers.append(v[i])
                groups.append({"topic": t[:80], "count": 1, "examples": [t], "languages": [gaps[i]["language"]]})
        return sorted(groups, key=lambda g: -g["count"])

    def article_from_conversation(self, conversation: str) -> str:
        """A KB article draft (Markdown with front matter) from a solved conversation, for a lead to review."""
        s = self.copilot.summarize_conversation(conversation)
        slug = re.sub(r"[^a-z0-9]+", "-", s.issue.lower())[:50].strip("-") or "new-article"
        steps = "\n".join(f"- {a}" for a in s.actions) or "- …"
        return (
            f"---\nid: draft-{slug}\ntitle: {s.issue[:90]}\nlanguage: {s.summary_language}\ncategory: {s.category}\n---\n"
            f"# {s.issue[:90]}\n\n## What to do\n{steps}\n\n## Outcome\n{s.resolution.get('text', '')}\n"
        )

    # ------------------------------------------------------------------ knowledge
    def upload_and_index(self, paths: list[str]) -> str:
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        for p in paths:
            src = Path(p)
            shutil.copy(src, self.upload_dir / src.name)
        report = self.copilot.build_index([*self.kb_dirs, self.upload_dir])
        self.copilot._drafter = None
        return report.summary() + ("\n" + "\n".join(f"skipped {s}" for s in report.skipped) if report.skipped else "")


def build_app(panel: Panel) -> "gr.Blocks":
    """Lay out the three tabs and name the API endpoints."""
    import gradio as gr

    def agent_name(request: "gr.Request | None") -> str:
        return str(getattr(request, "username", "") or "") if request is not None else ""

    with gr.Blocks(title="copilot — agent panel") as app:
        gr.Markdown("## copilot · drafts grounded in your knowledge base — the agent decides what is sent")
        state = gr.State({})
        with gr.Tab("Agent", id="agent"):
            with gr.Row():
                with gr.Column(scale=5):
                    message = gr.Textbox(
                        label="Customer message (or a conversation with Customer:/Agent: lines)",
                        lines=6,
                        elem_id="message",
                        placeholder="Bonjour, combien coûte la livraison ? / salam, bghit n3ref…",
                    )
                    draft_btn = gr.Button("Draft reply", variant="primary", elem_id="draft-btn")
                    badges = gr.HTML(elem_id="badges")
                    sources = gr.HTML(elem_id="sources")
                with gr.Column(scale=6):
                    draft_box = gr.Textbox(
                        label="Draft (edit freely; nothing is sent by the copilot)", lines=12, elem_id="draft", interactive=True
                    )
                    note = gr.Markdown(elem_id="note")
                    with gr.Row():
                        extractive_btn = gr.Button("Retrieval-first draft", size="sm", elem_id="extractive-btn")
                        rw = {
                            k: gr.Button(label, size="sm", elem_id=f"rw-{k}")
                            for k, label in (
                                ("shorter", "Shorter"),
                                ("longer", "Longer"),
                                ("formal", "Formal"),
                                ("friendly", "Friendly"),
                                ("empathetic", "Empathetic"),
                            )
                        }
                    with gr.Row():
                        target = gr.Dropdown(
                            ["fr", "ar", "es", "en"], value="fr", label="Translate to", scale=1, elem_id="target"
                        )
                        tr_draft = gr.Button("Translate draft", size="sm", elem_id="tr-draft")
                        tr_msg = gr.Button("Translate message (for me)", size="sm", elem_id="tr-msg")
                    translation = gr.Textbox(
                        label="Translation of the message", lines=3, visible=True, interactive=False, elem_id="translation"
                    )
                    with gr.Row():
                        accept = gr.Button("Accept", variant="primary", elem_id="accept")
                        accept_edit = gr.Button("Accept after edit", elem_id="accept-edit")
                        reject = gr.Button("Reject", variant="stop", elem_id="reject")
                    reason = gr.Textbox(label="Reason (for a rejection)", lines=1, elem_id="reason")
                    status = gr.Markdown(elem_id="status")

            def on_draft(msg: str, request: gr.Request) -> Iterator[tuple[Any, ...]]:
                if not msg or not msg.strip():
                    raise gr.Error("Type or paste the customer's message first.")
                q: queue.Queue[Any] = queue.Queue()
                out: dict[str, Any] = {}

                def work() -> None:
                    try:
                        out["result"] = panel.draft(
                            msg,
                            agent_name(request),
                            on_text=lambda t: q.put(("text", t)),
                            on_extractive=lambda d: q.put(("draft", d)),
                        )
                    except Exception as e:
                        out["error"] = e
                    q.put(None)

                threading.Thread(target=work, daemon=True).start()
                yield gr.update(), "<i>Searching the knowledge base…</i>", "", "Drafting…", {}, ""
                streamed = ""
                first: Any = None
                while (item := q.get()) is not None:
                    kind, value = item
                    if kind == "draft":  # the retrieval-first draft, before any model call: show it at once
                        first = value
                        yield (
                            _badges(value, value.language, "…", "", value.confidence),
                            _sources_html(value),
                            value.reply,
                            "Retrieval-first draft shown; the model is writing its own (checked before it replaces this)…",
                            gr.update(),
                            "",
                        )
                    elif first is not None and not first.no_match and panel.copilot.generator() is not None:
                        streamed += value
                        yield gr.update(), gr.update(), gr.update(), f"*Model draft (being checked):* {streamed}", gr.update(), ""
                if "error" in out:
                    e = out["error"]
                    raise gr.Error(str(e) if isinstance(e, CopilotError) else "Something went wrong while drafting; try again.")
                d, st = out["result"]
                note_text = (
                    ""
                    if d.path == "generated"
                    else (
                        "Retrieval-first draft (the model's text did not pass the checks)."
                        if d.rejected
                        else "Retrieval-first draft."
                    )
                )
                if d.warnings:
                    note_text += " ⚠ " + " ".join(d.warnings)
                yield (
                    _badges(d, d.language, st["sentiment"], st["category"], d.confidence),
                    _sources_html(d),
                    d.reply,
                    note_text,
                    st,
                    "",
                )

            draft_btn.click(on_draft, [message], [badges, sources, draft_box, note, state, status], api_visibility="private")
            extractive_btn.click(lambda st: st.get("extractive", ""), [state], [draft_box], api_visibility="private")
            for style, btn in rw.items():
                btn.click(
                    lambda text, st, s=style: panel.rewrite(text, s, st),
                    [draft_box, state],
                    [draft_box, note],
                    api_visibility="private",
                )
            tr_draft.click(
                lambda text, tgt, st: panel.translate(text, tgt, st),
                [draft_box, target, state],
                [draft_box, note],
                api_visibility="private",
            )
            tr_msg.click(
                lambda msg, tgt, st: panel.translate(msg, tgt, st)[0],
                [message, target, state],
                [translation],
                api_visibility="private",
            )

            def decide(kind: str) -> Any:
                def fn(st: dict[str, Any], text: str, why: str, request: gr.Request) -> str:
                    try:
                        return panel.decide(st, kind, text, why, agent_name(request))
                    except CopilotError as e:
                        raise gr.Error(str(e)) from e

                return fn

            accept.click(decide("accepted"), [state, draft_box, reason], [status], api_visibility="private")
            accept_edit.click(decide("edited"), [state, draft_box, reason], [status], api_visibility="private")
            reject.click(decide("rejected"), [state, draft_box, reason], [status], api_visibility="private")

        with gr.Tab("Team lead", id="lead") as lead_tab:
            with gr.Row():
                f_lang = gr.Dropdown(["", "fr", "ar", "ary", "ary-Latn", "es", "en"], value="", label="Language")
                f_cat = gr.Textbox(label="Category", value="")
                f_sent = gr.Dropdown(["", "negative", "neutral", "positive"], value="", label="Sentiment (end)")
                f_status = gr.Dropdown(["", "resolved", "pending", "escalated"], value="", label="Status")
                refresh = gr.Button("Refresh", elem_id="refresh")
            stats_md = gr.Markdown(elem_id="stats")
            with gr.Row():
                by_lang = gr.BarPlot(x="language", y="count", color="decision", title="Decisions by language")
                by_day = gr.LinePlot(x="day", y="rate", title="Acceptance rate over time")
            queue_df = gr.Dataframe(
                headers=["id", "conversation", "language", "category", "status", "sentiment", "approved", "summary"],
                interactive=False,
                wrap=True,
                elem_id="queue",
            )
            with gr.Row():
                sum_id = gr.Number(label="Summary id", precision=0)
                sum_text = gr.Textbox(label="Summary (edit, then save or approve)", lines=3)
                save_sum = gr.Button("Save")
                approve_sum = gr.Button("Approve", variant="primary")
            gaps_md = gr.Markdown(elem_id="gaps")
            with gr.Accordion("Summarise a conversation / import batch output / draft a KB article", open=False):
                conv = gr.Textbox(label="Conversation (Customer:/Agent: lines)", lines=6)
                sum_lang = gr.Dropdown(["", "fr", "ar", "es", "en"], value="", label="Summary language")
                with gr.Row():
                    do_sum = gr.Button("Summarise")
                    do_article = gr.Button("Draft a KB article from it")
                sum_out = gr.JSON(label="Summary")
                article_out = gr.Code(label="KB article draft (review, then upload it in the Knowledge tab)", language="markdown")
                imp = gr.File(label="Import `copilot summarize` output (.jsonl)", file_types=[".jsonl"])
                imp_status = gr.Markdown()

            def load_lead(lang: str, cat: str, sent: str, stat: str) -> tuple[Any, ...]:
                import pandas as pd

                s = panel.store.stats()
                total = s["accepted"] + s["edited"] + s["rejected"]
                rate = (s["accepted"] + s["edited"]) / total if total else 0.0
                lines = [
                    f"**Drafts shown** {s['drafts']} · **accepted** {s['accepted']} · **accepted after edit** {s['edited']} "
                    f"(mean edit distance {s['mean_edit_distance']:.2f}) · **rejected** {s['rejected']} · acceptance {rate:.0%}",
                ]
                if s["reasons"]:
                    lines.append(
                        "Rejection reasons: "
                        + "; ".join(f"{k} ({v})" for k, v in sorted(s["reasons"].items(), key=lambda kv: -kv[1]))
                    )
                if s["by_agent"]:
                    lines.append(
                        "Per agent: "
                        + "; ".join(f"{a}: {v['accepted']}✔ {v['edited']}✎ {v['rejected']}✘" for a, v in s["by_agent"].items())
                    )
                lang_rows = [
                    {"language": lg, "decision": k, "count": v[k]}
                    for lg, v in s["by_language"].items()
                    for k in ("accepted", "edited", "rejected")
                ]
                day_rows = [
                    {"day": d, "rate": (v["accepted"] + v["edited"]) / max(1, sum(v.values()))}
                    for d, v in sorted(s["by_day"].items())
                ]
                rows = panel.store.summaries(language=lang, category=cat.strip(), sentiment=sent, status=stat)
                table = [
                    [
                        r["id"],
                        r["conversation_id"],
                        r.get("language", ""),
                        r.get("category", ""),
                        r.get("resolution", {}).get("status", ""),
                        r.get("sentiment", {}).get("end", ""),
                        "yes" if r["approved"] else "",
                        r.get("summary", ""),
                    ]
                    for r in rows
                ]
                groups = panel.gap_groups()
                gap_lines = (
                    ["### KB gaps (questions without a KB answer, grouped)"]
                    + [
                        f"- **{g['count']}×** {html.escape(g['topic'])} ({', '.join(sorted(set(g['languages'])))})"
                        for g in groups[:15]
                    ]
                    if groups
                    else ["### KB gaps", "No unanswered questions yet."]
                )
                return (
                    "\n\n".join(lines),
                    pd.DataFrame(lang_rows or [{"language": "-", "decision": "accepted", "count": 0}]),
                    pd.DataFrame(day_rows or [{"day": "-", "rate": 0.0}]),
                    table,
                    "\n".join(gap_lines),
                )

            lead_inputs = [f_lang, f_cat, f_sent, f_status]
            lead_outputs = [stats_md, by_lang, by_day, queue_df, gaps_md]
            refresh.click(load_lead, lead_inputs, lead_outputs, api_visibility="private")
            lead_tab.select(load_lead, lead_inputs, lead_outputs, api_visibility="private")

            def pick(evt: gr.SelectData, table: Any) -> tuple[Any, Any]:
                row = table.iloc[evt.index[0]] if hasattr(table, "iloc") else table[evt.index[0]]
                return int(row[0]), str(row[7])

            queue_df.select(pick, [queue_df], [sum_id, sum_text], api_visibility="private")

            def save_summary(i: float, t: str, approve: bool) -> str:
                if not i:
                    raise gr.Error("Pick a summary in the queue first.")
                try:
                    panel.store.update_summary(int(i), text=t, approved=True if approve else None)
                except CopilotError as e:
                    raise gr.Error(str(e)) from e
                return "Approved." if approve else "Saved."

            save_sum.click(lambda i, t: save_summary(i, t, False), [sum_id, sum_text], [imp_status], api_visibility="private")
            approve_sum.click(lambda i, t: save_summary(i, t, True), [sum_id, sum_text], [imp_status], api_visibility="private")
            do_sum.click(lambda c, lg: panel.summarize(c, lg), [conv, sum_lang], [sum_out], api_visibility="private")
            do_article.click(panel.article_from_conversation, [conv], [article_out], api_visibility="private")
            imp.upload(
                lambda f: f"Imported {panel.import_summaries(f)} summaries.", [imp], [imp_status], api_visibility="private"
            )

        with gr.Tab("Knowledge", id="knowledge") as kb_tab:
            files = gr.File(label="Add KB files (.md .txt .html .pdf .csv .jsonl)", file_count="multiple", elem_id="kb-files")
            index_btn = gr.Button("Re-index", variant="primary", elem_id="reindex")
            index_status = gr.Markdown(elem_id="index-status")
            q = gr.Textbox(label="Try a search", elem_id="kb-query")
            q_btn = gr.Button("Search", elem_id="kb-search")
            q_out = gr.HTML(elem_id="kb-results")

            def on_index(paths: list[str] | None, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008 - Gradio's idiom
                if not paths:
                    raise gr.Error("Choose one or more files first.")
                progress(0.1, desc="Indexing (only changed chunks are embedded)…")
                try:
                    return "Indexed: " + panel.upload_and_index([str(p) for p in paths])
                except CopilotError as e:
                    raise gr.Error(str(e)) from e

            def on_search(query: str) -> str:
                try:
                    r = panel.copilot.search(query)
                except CopilotError as e:
                    raise gr.Error(str(e)) from e
                head = '<div class="nomatch">No confident match.</div>' if r.no_match else ""
                return head + "".join(
                    f'<div class="src" dir="auto"><b>{html.escape(h.title)}</b><div class="meta">{html.escape(h.article_id)} · '
                    f"{h.language} · {h.score:.2f}</div><div>{html.escape(h.text[:300])}</div></div>"
                    for h in r.hits
                )

            index_btn.click(on_index, [files], [index_status], api_visibility="private")
            q_btn.click(on_search, [q], [q_out], api_visibility="private")

        def roles(request: gr.Request) -> tuple[Any, Any]:
            role = panel.roles.get(agent_name(request), "lead") if panel.roles else "lead"
            return gr.update(visible=role == "lead"), gr.update(visible=role == "lead")

        app.load(roles, None, [lead_tab, kb_tab], api_visibility="private")

        # ------------------------------------------------------------------ named API (gradio_client)
        def draft_reply(message: str) -> dict[str, Any]:
            """Draft a cited reply: {draft_id, language, reply, citations, no_match, path, model, timings, …}."""
            d, st = panel.draft(message)
            out = d.to_dict()
            out["draft_path"] = out.pop("path")  # gradio_client would take an object with a "path" key for a file
            return {"draft_id": st["draft_id"], **out}

        def search(query: str, k: int = 5) -> dict[str, Any]:
            """Search the KB: {language, no_match, confidence, hits}."""
            return panel.copilot.search(query, int(k)).to_dict()

        def summarize(conversation: str, language: str = "") -> dict[str, Any]:
            """Summarise a conversation (Customer:/Agent: lines or a JSON list of turns)."""
            value: Any = conversation
            if conversation.strip().startswith("["):
                try:
                    value = json.loads(conversation)
                except json.JSONDecodeError:
                    value = conversation
            out = panel.summarize(value, language)
            out["summary_path"] = out.pop("path")  # see draft_reply
            return out

        def feedback(draft_id: int, decision: str, final_text: str = "", reason: str = "") -> dict[str, Any]:
            """Record an agent's decision on a draft: accepted | edited | rejected (with a reason)."""
            panel.store.record_decision(int(draft_id), decision, final_text=final_text, reason=reason)
            return {"ok": True}

        for fn in (draft_reply, search, summarize, feedback):
            gr.api(fn, api_name=fn.__name__)
    return app


def parse_auth(spec: str) -> dict[str, tuple[str, str]]:
    """``user:password:role,…`` -> {user: (password, role)}; role is ``agent`` or ``lead``."""
    users: dict[str, tuple[str, str]] = {}
    for item in [x.strip() for x in spec.split(",") if x.strip()]:
        parts = item.split(":")
        if len(parts) != 3 or parts[2] not in ("agent", "lead") or not parts[0] or not parts[1]:
            raise CopilotError("COPILOT_AUTH must look like 'alice:secret:agent,bob:secret2:lead'")
        users[parts[0]] = (parts[1], parts[2])
    return users
