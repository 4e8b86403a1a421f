"""Audit service: how long `GET /v1/reports/insights` takes with topic clustering on.

    uv run python bench/audit/topics.py                      # 5,000 and 50,000 decisions, SQLite
    uv run python bench/audit/topics.py --decisions 5000 --postgres-url postgresql+asyncpg://...

The comments are realistic where it matters for the clustering: 96 real French and English
sentences on eight subjects are embedded once with the shared encoder (as the moderator does), and
each decision takes one of them plus a little noise, so k-means sees the geometry of real
embeddings. Each decision also gets its comment and decision facts, so the request does all the
work it does in production. The running audit service (embedded bus, the database below) answers
the request through its ASGI app; the time of the topic part alone (reading the rows, clustering)
is measured beside it.

Results are appended to bench/results/audit-topics-<date>.md with the commit and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
from asgi_lifespan import LifespanManager
from sqlalchemy import insert
from vigie_audit.adapters.facts import CommentFact, DecisionFact, ReportFacts, Scope, TopicFact, encode_words
from vigie_audit.app import create_app
from vigie_audit.domain.topics import TopicConfig, topic_words
from vigie_audit.reports import cluster_topics
from vigie_audit.settings import AuditSettings
from vigie_encoder import get_encoder
from vigie_shared.auth import Role, TokenEntry, hash_token, write_token_file

RESULTS = Path(__file__).resolve().parents[1] / "results"
NOW = datetime.now(UTC).replace(microsecond=0)
TOKEN = "vgt_bench_auditor_0123456789abcdef"

SUBJECTS = {
    "delivery": (
        "My parcel never arrived, the delivery is three weeks late",
        "The courier lost my package and nobody answers",
        "Tracking shows nothing, where is my order?",
        "Delivery delayed again, the parcel is stuck in a warehouse",
        "Mon colis n'est jamais arrivé, la livraison a trois semaines de retard",
        "Le livreur a perdu mon colis et personne ne répond",
        "Le suivi n'indique rien, où est ma commande ?",
        "Livraison encore repoussée, le colis est bloqué à l'entrepôt",
    ),
    "concert": (
        "The concert last night was amazing, the band played for hours",
        "When does the band announce the next tour dates?",
        "Tickets for the concert sold out in ten minutes",
        "The crowd sang every song with the band",
        "Le concert d'hier soir était incroyable, le groupe a joué des heures",
        "Quand le groupe annonce-t-il les prochaines dates de tournée ?",
        "Les places du concert sont parties en dix minutes",
        "Le public a chanté chaque chanson avec le groupe",
    ),
    "price": (
        "The subscription price went up again, this is too expensive",
        "Why do I pay more every month for the same plan?",
        "Cancel my subscription, the new price is a joke",
        "Too expensive now, I am switching to a cheaper offer",
        "Le prix de l'abonnement a encore augmenté, c'est trop cher",
        "Pourquoi je paie plus chaque mois pour la même offre ?",
        "Résiliez mon abonnement, le nouveau tarif est une blague",
        "Trop cher maintenant, je passe à une offre moins chère",
    ),
    "app": (
        "The app crashes every time I open it since the update",
        "Login does not work on the app anymore",
        "The new update broke the app, please fix it",
        "The app is so slow it freezes on my phone",
        "L'application plante à chaque ouverture depuis la mise à jour",
        "La connexion ne marche plus sur l'application",
        "La nouvelle mise à jour a cassé l'application, corrigez-la",
        "L'application est si lente qu'elle se fige sur mon téléphone",
    ),
    "recipe": (
        "I tried your chocolate cake recipe, it was delicious",
        "How long should the cake stay in the oven?",
        "Can I replace the butter in this recipe?",
        "The recipe worked perfectly, my kids loved the cake",
        "J'ai testé votre recette de gâteau au chocolat, délicieux",
        "Combien de temps le gâteau doit-il rester au four ?",
        "Peut-on remplacer le beurre dans cette recette ?",
        "La recette a parfaitement marché, mes enfants ont adoré le gâteau",
    ),
    "football": (
        "What a goal in the last minute of the match",
        "The referee ruined the match with that penalty",
        "Our team deserved to win the match tonight",
        "The coach should change the team after this defeat",
        "Quel but à la dernière minute du match",
        "L'arbitre a gâché le match avec ce penalty",
        "Notre équipe méritait de gagner le match ce soir",
        "L'entraîneur devrait changer l'équipe après cette défaite",
    ),
    "weather": (
        "The storm cut the power in the whole town",
        "Such heavy rain today, the streets are flooded",
        "Heatwave again, it is impossible to sleep",
        "Snow everywhere this morning, the roads are closed",
        "La tempête a coupé l'électricité dans toute la ville",
        "Quelle pluie aujourd'hui, les rues sont inondées",
        "Encore une canicule, impossible de dormir",
        "De la neige partout ce matin, les routes sont fermées",
    ),
    "thanks": (
        "Thank you for this video, very helpful",
        "Great video, thanks for the clear explanation",
        "Thanks a lot, your videos help me every week",
        "Very useful video, thank you for sharing",
        "Merci pour cette vidéo, très utile",
        "Super vidéo, merci pour l'explication claire",
        "Merci beaucoup, vos vidéos m'aident chaque semaine",
        "Vidéo très utile, merci du partage",
    ),
}


def templates() -> tuple[np.ndarray, list[str], list[str]]:
    texts = [text for group in SUBJECTS.values() for text in group]
    languages = ["en" if i % 8 < 4 else "fr" for i in range(len(texts))]
    return get_encoder().embed(texts), texts, languages


def rows(n: int, vectors: np.ndarray, texts: list[str], languages: list[str]) -> list[dict[str, object]]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        t = int(rng.integers(len(texts)))
        vector = vectors[t] + rng.normal(scale=0.01, size=vectors.shape[1])
        vector /= np.linalg.norm(vector)
        out.append(
            {
                "i": i,
                "language": languages[t],
                "vector": vector.astype("<f2").tobytes(),
                "words": encode_words(topic_words(texts[t])),
                "at": NOW - timedelta(days=1, seconds=int(rng.integers(6 * 86400))),
            }
        )
    return out


async def fill(facts_engine: object, data: list[dict[str, object]]) -> None:
    from sqlalchemy.ext.asyncio import AsyncEngine

    assert isinstance(facts_engine, AsyncEngine)
    topics, decisions, comments = [], [], []
    for row in data:
        key = f"d{row['i']:08d}"
        topics.append(
            {"decision_id": key, "community": "page-1", "subject": f"facebook:psn_{row['i']}",
             "decided_at": row["at"], "language": row["language"], "encoder": "bench",
             "vector": row["vector"], "words": row["words"]}
        )  # fmt: skip
        decisions.append(
            {"decision_id": key, "community": "page-1", "platform": "facebook", "decided_at": row["at"],
             "language": row["language"], "identity_groups": "", "action": "allow",
             "policy_version": "page-1/live/1", "harm_score": 0.05, "sentiment": 0.2}
        )  # fmt: skip
        comments.append(
            {"correlation_id": key, "community": "page-1", "platform": "facebook", "created_at": row["at"],
             "received_at": row["at"]}
        )  # fmt: skip
    async with facts_engine.begin() as connection:
        for model, values in ((TopicFact, topics), (DecisionFact, decisions), (CommentFact, comments)):
            for start in range(0, len(values), 2000):
                await connection.execute(insert(model), values[start : start + 2000])


async def measure(n: int, database_url: str, workdir: Path, repeats: int) -> dict[str, float | int]:
    vectors, texts, languages = templates()
    tokens = workdir / "tokens.json"
    write_token_file(tokens, [TokenEntry(name="bench", sha256=hash_token(TOKEN), roles=[Role.AUDITOR])])
    settings = AuditSettings(
        bus_url=f"sqlite:///{workdir}/bus-{n}.db",
        consumer_group="bench-audit",
        database_url=database_url,
        api_tokens_file=tokens,
        environment="test",
    )
    app = create_app(settings)
    async with (
        LifespanManager(app, startup_timeout=120) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(manager.app), base_url="http://audit") as client,
    ):
        await fill(app.state.audit.engine, rows(n, vectors, texts, languages))
        params = {"community": "page-1", "since": (NOW - timedelta(days=8)).isoformat()}
        auth = {"Authorization": f"Bearer {TOKEN}"}
        timings: dict[str, list[float]] = {"json": [], "html": [], "csv": [], "read": [], "cluster": []}
        answer: dict[str, object] = {}
        facts: ReportFacts = app.state.report_facts
        scope = Scope(frozenset({"page-1"}), NOW - timedelta(days=8), NOW)
        for _ in range(repeats):
            for kind, extra in (("json", {}), ("html", {"format": "html"}), ("csv", {"format": "csv"})):
                start = time.perf_counter()
                response = await client.get("/v1/reports/insights", params=params | extra, headers=auth)
                timings[kind].append(time.perf_counter() - start)
                response.raise_for_status()
                if kind == "json":
                    answer = response.json()
            start = time.perf_counter()
            comments, _ = await facts.topic_comments(scope, settings.reports.topic_max_comments)
            timings["read"].append(time.perf_counter() - start)
            start = time.perf_counter()
            await asyncio.to_thread(cluster_topics, comments, TopicConfig())
            timings["cluster"].append(time.perf_counter() - start)
    topics = answer["topics"]
    assert isinstance(topics, list)
    print({language["language"]: [t["words"][:3] for t in language["topics"]] for language in topics})
    result: dict[str, float | int] = {k: statistics.median(v) for k, v in timings.items()}
    result["decisions"] = n
    result["topics"] = sum(len(language["topics"]) for language in topics)
    return result


async def fresh_database(url: str) -> str:
    """A new, empty database on the server for each run (the facts keys repeat between runs)."""
    import asyncpg

    name = f"bench_topics_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return url.rsplit("/", 1)[0] + f"/{name}"


async def drop_database(server_url: str, url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(server_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}"')
    finally:
        await connection.close()


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--decisions", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--postgres-url")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    lines = []
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        for n in args.decisions:
            targets = [("sqlite", f"sqlite+aiosqlite:///{workdir}/audit-{n}.db")]
            if args.postgres_url:
                targets.append(("postgresql", args.postgres_url))
            for name, url in targets:
                if name == "postgresql":
                    url = asyncio.run(fresh_database(url))
                try:
                    r = asyncio.run(measure(n, url, workdir, args.repeats))
                finally:
                    if name == "postgresql":
                        asyncio.run(drop_database(args.postgres_url, url))
                lines.append(
                    f"| {name} | {n:,} | {r['topics']} | {r['read']:.2f} s | {r['cluster']:.2f} s | "
                    f"{r['json']:.2f} s | {r['html']:.2f} s | {r['csv']:.2f} s |"
                )
                print(lines[-1])
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    report = "\n".join(
        [
            f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}\n",
            f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()} "
            f"{platform.release()}; load average at the end {load} (the machine is shared).",
            "Default settings: k from 2 to 8 by silhouette, fitted on at most 2,000 comments per language, "
            f"every comment assigned; median of {args.repeats} requests.\n",
            "| database | decisions | topics shown | read topic rows | cluster + label | "
            "insights JSON | HTML (with charts) | CSV |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            *lines,
        ]
    )
    path = RESULTS / f"audit-topics-{datetime.now(UTC):%Y-%m-%d}.md"
    if not path.exists():
        path.write_text(
            "# Audit benchmark: insights with topics\n\nProduced by `bench/audit/topics.py`; newest run last.\n"
        )
    with path.open("a") as out:
        out.write(report + "\n")
    print(report)


if __name__ == "__main__":
    main()
