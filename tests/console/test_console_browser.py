"""The console in a real browser: Debian's Chromium, headless, driven by Playwright for Python.

Vigie is started the way `make run` starts it (scripts/dev_env.py, then scripts/run_all.py: five
processes, the embedded bus and SQLite) in a scratch directory on free ports. Comments arrive as
signed Meta webhooks; a moderator signs in with the generated admin token, decides a held comment
with one key, edits and approves a reply draft and opens the reports, and the browser's console
stays free of errors. VIGIE_SCREENSHOTS=<dir> keeps the screenshots (docs/images holds the README's).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.system import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# Nothing reaches out: no updates, no sync, no first-run work, no QUIC probing.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PAGE = "my-page"
LIVE_POLICY = {
    "version": "my-page-live",
    "thresholds": {
        "toxicity": {"review": 0.6, "hide": 0.9},
        "insult": {"review": 0.7, "hide": 0.92},
        "threat": {"review": 0.5, "remove": 0.9},
        "identity_attack": {"review": 0.5, "hide": 0.85},
        "spam": {"review": 0.7, "hide": 0.95},
    },
    "term_rules": [{"name": "off-topic-fruit", "action": "review", "terms": ["pineapple", "ananas"]}],
}
SHADOW_POLICY = {
    **LIVE_POLICY,
    "version": "my-page-shadow",
    "thresholds": {**LIVE_POLICY["thresholds"], "toxicity": {"review": 0.5, "hide": 0.8}},
    "term_rules": [{"name": "off-topic-fruit", "action": "hide", "terms": ["pineapple", "ananas"]}],
}


@dataclass
class Vigie:
    workdir: Path
    ports: dict[str, int]
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    admin: str
    shots: list[Path] = field(default_factory=list)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin}"}


def _read_env(path: Path) -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    return dict(pairs)


def _wait_ready(vigie: Vigie, log: Path, timeout: float = 150) -> None:
    end = time.monotonic() + timeout
    waiting = set(vigie.ports)
    while waiting and time.monotonic() < end:
        assert vigie.process.poll() is None, log.read_text()[-4000:]
        for service in list(waiting):
            try:
                if httpx.get(f"{vigie.url(service)}/readyz", timeout=2).status_code == 200:
                    waiting.discard(service)
            except httpx.TransportError:
                pass
        time.sleep(0.3)
    assert not waiting, f"not ready: {waiting}\n{log.read_text()[-4000:]}"


def _webhook(vigie: Vigie, comments: list[tuple[str, str]]) -> None:
    now = int(time.time())
    payload = {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": now,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "post_id": f"{PAGE}_1",
                            "comment_id": f"{PAGE}_1_{comment_id}",
                            "from": {"id": f"user-{comment_id}", "name": "Camille"},
                            "message": text,
                            "created_time": now,
                        },
                    }
                    for comment_id, text in comments
                ],
            }
        ],
    }
    body = json.dumps(payload).encode()
    signature = hmac.new(vigie.env["VIGIE_META_APP_SECRET"].encode(), body, hashlib.sha256).hexdigest()
    answer = httpx.post(
        f"{vigie.url('ingest')}/webhooks/meta",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def _until(check: Any, timeout: float = 60) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("condition not met in time")


@pytest.fixture(scope="module")
def vigie(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vigie]:
    if not CHROMIUM.exists():
        # A failure, never a skip: `make test` installs it through scripts/chromium.sh.
        pytest.fail("Debian's chromium is not installed: run scripts/chromium.sh", pytrace=False)
    workdir = tmp_path_factory.mktemp("vigie-run")
    # Only the machine's environment, none of the test run's VIGIE_* settings: as a user's shell.
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "dev_env.py")], cwd=workdir, env=base_env, check=True
    )
    env = _read_env(workdir / "var" / "dev.env")
    ports = {service: free_port() for service in ("console", "ingest", "moderator", "responder", "audit")}
    log = workdir / "run_all.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "scripts" / "run_all.py"),
                *(f"--port={s}={p}" for s, p in ports.items()),
            ],
            cwd=workdir,
            env={**base_env, "VIGIE_LOG_JSON": "true"},
            stdout=out,
            stderr=out,
        )
    running = Vigie(workdir, ports, env, process, env["VIGIE_DEV_ADMIN_TOKEN"])
    try:
        _wait_ready(running, log)
        for mode, policy in (("live", LIVE_POLICY), ("shadow", SHADOW_POLICY)):
            put = httpx.put(
                f"{running.url('moderator')}/v1/policies/{PAGE}",
                params={"mode": mode},
                json=policy,
                headers=running.auth(),
                timeout=10,
            )
            assert put.status_code == 200, put.text
        _webhook(
            running,
            [
                ("1", "This pineapple pizza is a disgrace to Italy"),
                ("2", "How do I reset my password?"),
                ("3", "Une pizza à l'ananas ? Franchement, non."),
            ],
        )
        _until(lambda: len(_reviews(running)) >= 2)
        _until(lambda: _drafts(running))
        yield running
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _reviews(vigie: Vigie, **params: Any) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{vigie.url('moderator')}/v1/reviews", params=params, headers=vigie.auth(), timeout=30
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def _drafts(vigie: Vigie, status: str = "pending") -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{vigie.url('responder')}/v1/drafts", params={"status": status}, headers=vigie.auth(), timeout=30
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json())


@dataclass
class Browser:
    page: Any
    problems: list[str]
    shots: Path
    # (status, part of the URL): answers a step expects, which Chromium still logs as errors.
    expected: list[tuple[int, str]]

    def shot(self, name: str) -> None:
        path = self.shots / f"console-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        keep = os.environ.get("VIGIE_SCREENSHOTS")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(keep) / path.name)


@pytest.fixture
def browser(vigie: Vigie, tmp_path: Path) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    expected: list[tuple[int, str]] = []
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh profile every time
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1360, "height": 900},
            locale="en-GB",
        )
        try:
            page = context.new_page()

            def on_console(message: Any) -> None:
                if message.type != "error":
                    return
                where = message.location.get("url", "")
                if any(f"status of {status} " in message.text and part in where for status, part in expected):
                    return
                problems.append(f"{message.text} at {where}")

            page.on("console", on_console)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.set_default_timeout(20_000)
            yield Browser(page, problems, tmp_path, expected)
        finally:
            context.close()
    assert problems == [], problems


def sign_in(browser: Browser, vigie: Vigie, *, screenshot: bool = False) -> None:
    page = browser.page
    page.goto(vigie.url("console") + "/")
    page.get_by_label("API token").fill(vigie.admin)
    if screenshot:
        browser.shot("sign-in")
    page.get_by_role("button", name="Sign in").click()
    page.locator("#queue-list").wait_for()


def test_a_moderator_works_the_daily_loop_in_the_browser(vigie: Vigie, browser: Browser) -> None:
    page = browser.page
    page.goto(vigie.url("console") + "/")
    # Signed out, the keyboard starts in the token field; the next stop is the button that submits it.
    page.locator("#token:focus").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Sign in"
    sign_in(browser, vigie, screenshot=True)
    assert page.evaluate("sessionStorage.getItem('vigie.token')") == vigie.admin
    assert page.evaluate("localStorage.getItem('vigie.token')") is None

    # The queue: the held comment, the rule's word highlighted, the scores and the shadow verdict.
    page.get_by_label("Community").fill(PAGE)
    page.get_by_role("button", name="Apply").click()
    held = _reviews(vigie, community=PAGE)
    first = held[0]
    assert "pineapple" in first["text"]
    assert first["shadow"]["action"] == "hide"
    page.locator("#comment-text mark", has_text="pineapple").wait_for()
    assert page.locator("#queue-list [role=option]").count() == len(held)
    assert page.locator("#reasons").inner_text().startswith("rule 'off-topic-fruit' matched: pineapple")
    assert f"{PAGE}/shadow/1" in page.locator("#shadow").inner_text()
    assert "hide" in page.locator("#shadow .badge").inner_text()
    assert page.locator("#queue-detail table tbody tr").count() == 6  # five categories and sentiment
    browser.shot("queue")

    # One key decides; the item leaves the list and the decision is the API's.
    page.locator("#queue-list").focus()
    page.keyboard.press("a")
    page.locator("#status", has_text="Approved").wait_for()
    assert page.locator("#queue-list [role=option]").count() == len(held) - 1
    remaining = _reviews(vigie, community=PAGE)
    assert first["id"] not in {r["id"] for r in remaining}
    # j moves to the next item without a request.
    if len(remaining) > 1:
        page.keyboard.press("j")
        assert page.locator("#queue-list [aria-selected=true]").get_attribute("id") == "review-1"

    # Drafts: the comment, where the draft comes from, an edit counted against Facebook's limit.
    page.get_by_role("link", name="Reply drafts").click()
    page.locator("#draft-text").wait_for()
    [draft] = _drafts(vigie)
    assert page.locator("#draft-comment").inner_text() == "How do I reset my password?"
    assert "template" in page.locator("#provenance").inner_text()
    page.keyboard.press("e")
    assert page.evaluate("document.activeElement.id") == "draft-text"
    edited = "Hello! Use 'Forgot password' on the sign-in page; a link arrives by email within a minute."
    page.locator("#draft-text").fill(edited)
    assert page.locator("#draft-counter").inner_text() == f"{len(edited)} / 8000 characters (facebook)"
    page.locator("#draft-text").fill("x" * 8001)
    assert page.locator("#approve-draft").is_disabled()
    assert "over" in (page.locator("#draft-counter").get_attribute("class") or "")
    page.locator("#draft-text").fill(edited)
    browser.shot("drafts")
    page.keyboard.press("Control+Enter")
    # No credentials in a fresh `make run`: the responder says so, and so does the page.
    page.locator("#delivery .badge", has_text="failed").wait_for(timeout=40_000)
    assert "no credentials for this community" in page.locator("#delivery").inner_text()
    after = httpx.get(f"{vigie.url('responder')}/v1/drafts/{draft['id']}", headers=vigie.auth()).json()
    assert after["verdict"] == "edited"
    assert after["final_text"] == edited
    assert after["delivery"]["reason"] == "no_credentials"
    browser.shot("drafts-delivered")

    # Policy: live and shadow side by side, differences marked.
    page.get_by_role("link", name="Policy").click()
    page.get_by_label("Community").fill(PAGE)
    page.get_by_role("button", name="Load").click()
    page.locator("#policy-compare td.diff").first.wait_for()
    assert f"{PAGE}/live/1" in page.locator("#policy-compare").inner_text()
    assert page.locator("#policy-compare td.diff").count() == 3  # toxicity review, toxicity hide, the rule
    page.locator("#shadow-held").wait_for()
    browser.shot("policy")

    # Knowledge base: the editor, or a clear word that this responder has no such routes yet.
    kb = httpx.get(f"{vigie.url('responder')}/v1/kb/{PAGE}/entries", headers=vigie.auth())
    # A route a later responder brings answers 404 until then; the page says so in words.
    browser.expected.append((404, "/api/responder/v1/kb/"))
    page.get_by_role("link", name="Knowledge base").click()
    page.get_by_label("Community").fill(PAGE)
    page.get_by_role("button", name="Load").click()
    if kb.status_code == 404:
        page.locator("#kb-unavailable").wait_for()
    else:
        assert kb.status_code == 200, kb.text
        page.locator("#kb-list h2").wait_for()
    browser.shot("knowledge-base-unavailable")

    # Reports: the audit service's pages, fetched with the token and shown in a sandboxed frame.
    for kind, heading in (("insights", "Community insights"), ("bias", "Bias report")):
        direct = httpx.get(
            f"{vigie.url('audit')}/v1/reports/{kind}",
            params={"community": PAGE},
            headers={**vigie.auth(), "Accept": "text/html"},
            timeout=60,
        )
        browser.expected.append((404, f"/api/audit/v1/reports/{kind}"))
        page.goto(f"{vigie.url('console')}/#/reports/{kind}?community={PAGE}")
        if direct.status_code == 404:
            page.locator("#report-unavailable").wait_for()
        else:
            assert direct.status_code == 200, direct.text
            frame = page.frame_locator("#report-frame")
            frame.locator("h1", has_text=heading).wait_for()
        browser.shot(kind)


def test_the_interface_speaks_french_and_keeps_the_token_to_the_tab(vigie: Vigie, browser: Browser) -> None:
    page = browser.page
    sign_in(browser, vigie)
    page.get_by_label("Interface language").select_option("fr")
    page.get_by_role("link", name="File de revue").wait_for()
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.get_by_role("heading", level=1).inner_text() == "File de revue"
    browser.shot("queue-fr")
    # The words a reason names are found again through the disguises the policy sees through.
    marked = page.evaluate(
        """async () => {
            const h = await import("/static/js/highlight.js");
            const reasons = ["toxicity 0.93 >= hide threshold (terms: idiot, connard)",
                             "rule 'threat-phrases' matched: 'i will find you'"];
            return h.runs("You 1D10T. I will find YOU, c o n n a r d.", h.termsOf(reasons))
                .filter(([, hit]) => hit).map(([text]) => text);
        }"""
    )
    assert marked == ["1D10T", "I will find YOU", "c o n n a r d"]
    page.get_by_role("button", name="Se déconnecter").click()
    assert page.evaluate("sessionStorage.getItem('vigie.token')") is None
    browser.expected.append((401, "/api/moderator/v1/reviews"))
    page.get_by_label("Jeton d'API").fill("vgt_not_a_real_token")
    page.get_by_role("button", name="Se connecter").click()
    page.locator("#alert", has_text="Vigie ne connaît pas ce jeton").wait_for()
    assert page.evaluate("sessionStorage.getItem('vigie.token')") is None


def test_a_queue_of_ten_thousand_stays_fast(vigie: Vigie, browser: Browser) -> None:
    import sqlalchemy
    from vigie_moderator.adapters.store import ReviewRow

    # Written straight into the moderator's database: 10,000 comments held in one community.
    engine = sqlalchemy.create_engine(f"sqlite:///{vigie.workdir / 'var' / 'moderator.db'}")
    start = datetime.now(UTC) - timedelta(days=2)
    rows = [
        {
            "id": f"bulk-{n:05d}",
            "platform": "discord",
            "community": "bulk",
            "thread_id": "chan",
            "comment_id": str(n),
            "correlation_id": uuid.uuid4().hex,
            "author_pseudonym": f"psn_{n % 300}",
            "text": f"message {n}: you absolute idiot, subscribe to my channel",
            "language": "en",
            "scores": {
                "toxicity": 0.7,
                "insult": 0.71,
                "threat": 0.0,
                "identity_attack": 0.0,
                "spam": 0.72,
                "sentiment": -0.6,
            },
            "reasons": ["toxicity 0.70 >= review threshold (terms: idiot)"],
            "categories": ["toxicity"],
            "policy_version": "default-2",
            "shadow": None,
            "status": "pending",
            "created_at": start + timedelta(seconds=n),
        }
        for n in range(10_000)
    ]
    with engine.begin() as connection:
        connection.execute(ReviewRow.__table__.insert(), rows)
    engine.dispose()

    started = time.perf_counter()
    answer = httpx.get(
        f"{vigie.url('console')}/api/moderator/v1/reviews",
        params={"community": "bulk", "limit": 100},
        headers=vigie.auth(),
        timeout=30,
    )
    api_seconds = time.perf_counter() - started
    assert answer.status_code == 200
    assert [r["id"] for r in answer.json()][:2] == ["bulk-00000", "bulk-00001"]

    page = browser.page
    sign_in(browser, vigie)
    page.locator("#queue-list[aria-busy=false]").wait_for()
    page.get_by_label("Community").fill("bulk")
    started = time.perf_counter()
    page.get_by_role("button", name="Apply").click()
    page.locator("#queue-list[aria-busy=false]").wait_for()
    shown_seconds = time.perf_counter() - started
    page.locator("#comment-text mark", has_text="idiot").wait_for()
    assert page.locator("#queue-list [role=option]").first.get_attribute("data-id") == "bulk-00000"
    # One window of the queue in the page, whatever its length.
    assert page.locator("#queue-list [role=option]").count() == 100
    page.locator("#queue-list").focus()
    started = time.perf_counter()
    for _ in range(50):
        page.keyboard.press("j")
    page.locator("#review-50[aria-selected=true]").wait_for()
    moves_seconds = time.perf_counter() - started
    page.keyboard.press("r")
    page.locator("#status", has_text="Removed").wait_for()
    assert page.locator("#queue-list [role=option]").count() == 99
    print(  # noqa: T201 - the figures the README quotes
        f"10,000 held: API page of 100 in {api_seconds:.3f}s, shown in {shown_seconds:.3f}s, "
        f"50 moves in {moves_seconds:.3f}s"
    )
    assert api_seconds < 5
    assert shown_seconds < 5
    assert moves_seconds < 5


def test_the_knowledge_base_editor_speaks_the_contract(tmp_path: Path) -> None:
    """Against the contract's routes (a fake, until the responder has them): create, find, delete."""
    import threading

    import uvicorn
    from playwright.sync_api import sync_playwright

    from tests.console.fake_kb import fake_kb

    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run scripts/chromium.sh", pytrace=False)
    token = "vgt_kb_" + uuid.uuid4().hex
    app, entries, puts = fake_kb(token)
    kb_port, console_port = free_port(), free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=kb_port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    console = subprocess.Popen(  # the console alone, pointed at the fake responder
        [sys.executable, "-m", "vigie_console"],
        env={
            **base_env,
            "VIGIE_PORT": str(console_port),
            "VIGIE_RESPONDER_URL": f"http://127.0.0.1:{kb_port}",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{console_port}"
    problems: list[str] = []
    try:
        _until(lambda: server.started and _ready(base), timeout=30)
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path / "profile"),
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1360, "height": 900},
                locale="en-GB",
            )
            try:
                page = context.new_page()
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda error: problems.append(str(error)))
                page.on("dialog", lambda dialog: dialog.accept())
                page.set_default_timeout(20_000)
                page.goto(base + "/")
                page.evaluate(f"sessionStorage.setItem('vigie.token', '{token}')")
                page.goto(base + "/#/kb?community=shop")
                page.reload()
                page.locator("#kb-list", has_text="No entry yet").wait_for()

                page.get_by_label("Entry id").fill("opening-hours")
                page.get_by_label("Questions in English").fill(
                    "When are you open?\nWhat are your opening hours?"
                )
                page.get_by_label("Questions in French").fill("Quand êtes-vous ouverts ?")
                page.get_by_label("Answer in English").fill("Every day from 9:00 to 18:00.")
                page.get_by_label("Answer in French").fill("Tous les jours de 9 h à 18 h.")
                page.get_by_label("Tags").fill("hours, shop")
                page.get_by_role("button", name="Save entry").click()
                page.locator("#status", has_text="Entry opening-hours saved").wait_for()
                assert puts == [
                    {
                        "questions": {
                            "fr": ["Quand êtes-vous ouverts ?"],
                            "en": ["When are you open?", "What are your opening hours?"],
                        },
                        "answers": {
                            "fr": "Tous les jours de 9 h à 18 h.",
                            "en": "Every day from 9:00 to 18:00.",
                        },
                        "tags": ["hours", "shop"],
                        "valid_from": None,
                        "valid_until": None,
                    }
                ]
                page.locator("#kb-list button", has_text="opening-hours").wait_for()

                page.get_by_label("A comment").fill("when are you open on sunday")
                page.get_by_role("button", name="Search").click()
                page.locator("#kb-results li", has_text="opening-hours").wait_for()
                page.get_by_role("button", name="New entry").click()
                page.locator("#kb-list button", has_text="opening-hours").click()
                assert page.get_by_label("Answer in English").input_value() == "Every day from 9:00 to 18:00."
                _shot(page, tmp_path, "knowledge-base")

                # An entry with no answer never leaves the page.
                page.get_by_role("button", name="New entry").click()
                page.get_by_label("Entry id").fill("empty")
                page.get_by_label("Questions in English").fill("Anything?")
                page.get_by_role("button", name="Save entry").click()
                page.locator("#alert", has_text="at least one answer").wait_for()
                assert len(puts) == 1

                page.get_by_role("button", name="New entry").click()
                page.locator("#kb-list button", has_text="opening-hours").click()
                page.get_by_role("button", name="Delete").click()
                page.locator("#status", has_text="Entry opening-hours deleted").wait_for()
                assert entries == {}
            finally:
                context.close()
    finally:
        console.terminate()
        console.wait(timeout=30)
        server.should_exit = True
        thread.join(timeout=10)
    assert problems == [], problems


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"console-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    keep = os.environ.get("VIGIE_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)
