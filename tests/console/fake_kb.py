"""The responder's knowledge-base routes as CONTRACT.md draws them, in memory, for the console's editor test."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel, Field


class Entry(BaseModel):
    questions: dict[str, list[str]]
    answers: dict[str, str]
    tags: list[str] = Field(default_factory=list)
    valid_from: str | None = None
    valid_until: str | None = None


class SearchBody(BaseModel):
    text: str
    limit: int = 5


def fake_kb(token: str) -> tuple[FastAPI, dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The app, its entries by `community/entry_id`, and every PUT body it received."""
    app = FastAPI()
    entries: dict[str, dict[str, Any]] = {}
    puts: list[dict[str, Any]] = []

    def check(authorization: str | None) -> None:
        if authorization != f"Bearer {token}":
            raise HTTPException(401, "unknown token")

    @app.get("/v1/kb/{community}/entries")
    async def list_entries(community: str, authorization: str | None = Header(None)) -> list[dict[str, Any]]:
        check(authorization)
        return [e for key, e in sorted(entries.items()) if key.startswith(f"{community}/")]

    @app.put("/v1/kb/{community}/entries/{entry_id}")
    async def put_entry(
        community: str, entry_id: str, body: dict[str, Any], authorization: str | None = Header(None)
    ) -> dict[str, Any]:
        check(authorization)
        puts.append(body)
        entry = Entry.model_validate(body)
        if not any(entry.questions.values()) or not any(entry.answers.values()):
            raise HTTPException(422, "at least one question and one answer")
        entries[f"{community}/{entry_id}"] = {"entry_id": entry_id, **entry.model_dump()}
        return entries[f"{community}/{entry_id}"]

    @app.delete("/v1/kb/{community}/entries/{entry_id}", status_code=204)
    async def delete_entry(community: str, entry_id: str, authorization: str | None = Header(None)) -> None:
        check(authorization)
        if entries.pop(f"{community}/{entry_id}", None) is None:
            raise HTTPException(404, "no such entry")

    @app.post("/v1/kb/{community}/search")
    async def search(
        community: str, body: SearchBody, authorization: str | None = Header(None)
    ) -> dict[str, list[dict[str, Any]]]:
        check(authorization)
        words = set(body.text.lower().replace("?", "").split())
        results = []
        for key, entry in entries.items():
            if not key.startswith(f"{community}/"):
                continue
            for question in (q for qs in entry["questions"].values() for q in qs):
                overlap = words & set(question.lower().replace("?", "").split())
                if overlap:
                    score = len(overlap) / len(words)
                    results.append(
                        {"entry_id": entry["entry_id"], "score": score, "matched_question": question}
                    )
                    break
        results.sort(key=lambda r: -r["score"])
        return {"results": results[: body.limit]}

    return app, entries, puts
