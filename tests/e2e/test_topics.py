"""Comments about two different subjects, in French and English, come out as two labelled topics
per language in the insights: webhook in, the moderator's encoder, audit's topic facts, the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Tokens
from tests.e2e.system import SystemConfig, in_process, signed_meta_delivery, wait_for

pytestmark = pytest.mark.slow

DELIVERY_EN = (
    "My parcel never arrived, the delivery is three weeks late",
    "Still waiting for my delivery, the parcel tracking shows nothing",
    "The courier lost my parcel, worst delivery service ever",
    "Delivery delayed again, my parcel is stuck in a warehouse",
    "I paid for express delivery and the parcel came a week late",
    "The delivery driver left my parcel at the wrong address",
    "No delivery yet, the parcel was supposed to come on Monday",
    "Can someone explain why every delivery of my parcels is late?",
)
CONCERT_EN = (
    "The concert last night was amazing, the band played for three hours",
    "Loved the concert, the band sounded even better live",
    "Best concert of the year, the band's guitarist was on fire",
    "When does the band announce the next concert dates?",
    "The band played all their old songs at the concert, what a night",
    "Tickets for the band's concert sold out in ten minutes",
    "The crowd sang every song with the band during the concert",
    "Saw the band in concert in London, the light show was stunning",
)
DELIVERY_FR = (
    "Mon colis n'est jamais arrivé, la livraison a trois semaines de retard",
    "J'attends toujours ma livraison, le suivi du colis n'indique rien",
    "Le livreur a perdu mon colis, quelle livraison catastrophique",
    "Livraison encore repoussée, mon colis est bloqué à l'entrepôt",
    "J'ai payé la livraison express et le colis arrive avec une semaine de retard",
    "Le livreur a déposé mon colis à la mauvaise adresse, livraison ratée",
    "Toujours pas de livraison, le colis devait arriver lundi",
    "Pourquoi chaque livraison de colis est-elle en retard chez vous ?",
)
CONCERT_FR = (
    "Le concert d'hier soir était incroyable, le groupe a joué trois heures",
    "J'ai adoré le concert, le groupe est encore meilleur sur scène",
    "Meilleur concert de l'année, le guitariste du groupe était en feu",
    "Quand le groupe annonce-t-il les prochaines dates de concert ?",
    "Le groupe a joué tous ses anciens morceaux au concert, quelle soirée",
    "Les places du concert du groupe sont parties en dix minutes",
    "Le public a chanté chaque chanson avec le groupe pendant le concert",
    "Vu le groupe en concert à Lyon, les lumières étaient superbes",
)
SUBJECTS = {
    "en": ({"delivery", "parcel"}, {"concert", "band"}),
    "fr": ({"livraison", "colis"}, {"concert", "groupe"}),
}


@pytest.fixture
def config(bus_url: str, topic_prefix: str, tmp_path: Path, tokens: Tokens) -> SystemConfig:
    return SystemConfig(bus_url=bus_url, prefix=topic_prefix, workdir=tmp_path, tokens_file=tokens.path)


async def test_two_subjects_in_two_languages_make_two_labelled_topics_each(
    config: SystemConfig, tokens: Tokens
) -> None:
    texts = [*DELIVERY_EN, *CONCERT_EN, *DELIVERY_FR, *CONCERT_FR]
    async with in_process(config, "audit", "moderator", "ingest") as svc:
        body, headers = signed_meta_delivery(
            [{"post": "p1", "id": f"c{i}", "text": text, "user": f"u{i}"} for i, text in enumerate(texts)]
        )
        accepted = await svc["ingest"].post("/webhooks/meta", content=body, headers=headers)
        assert accepted.status_code == 200, accepted.text
        auditor = Tokens.header(tokens.auditor)
        params = {"community": "page-42"}

        async def insights() -> dict[str, Any] | None:
            answer = await svc["audit"].get("/v1/reports/insights", params=params, headers=auditor)
            assert answer.status_code == 200, answer.text
            found: dict[str, Any] = answer.json()
            embedded = sum(language["comments"] for language in found["topics"])
            return found if embedded == len(texts) else None

        report = await wait_for(insights, timeout=180)
        by_language = {language["language"]: language for language in report["topics"]}
        assert set(by_language) == {"en", "fr"}
        for language, subjects in SUBJECTS.items():
            found = by_language[language]
            assert found["comments"] == 16 and found["withheld"] == 0, found
            assert [topic["size"] for topic in found["topics"]] == [8, 8], found
            labels = [set(topic["words"][:3]) for topic in found["topics"]]
            # Each subject names exactly one topic, by its own words.
            for subject in subjects:
                assert sum(1 for label in labels if label & subject) == 1, (language, labels)

        exported = await svc["audit"].get(
            "/v1/reports/insights", params=params | {"format": "csv"}, headers=auditor
        )
        assert "topic,fr:1,words," in exported.text and "topic,en:2,words," in exported.text
