"""Many voters at once against a live threaded server: no vote lost, none doubled, no 500.

Runs on whichever database the suite runs on (scripts/test runs it on SQLite, with the
file test database from settings, and on PostgreSQL). The server is Django's threaded
WSGI server on 127.0.0.1, port 0, with a listen backlog deep enough for every voter to
connect at once (the live_server fixture's backlog of 10 makes the kernel reset
connections under this load before Django ever sees them).
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.core.wsgi import get_wsgi_application
from django.test import Client
from django.test.testcases import QuietWSGIRequestHandler

from toolverdict.catalog.models import Tool
from toolverdict.community.figures import community_figures, pair_split
from toolverdict.community.models import PairVote, ToolVote, VoteEvent

from .conftest import create_member

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

VOTERS = 32
SEQUENCE_TOOLS = ["cursor", "aider", "gpt-4o"]
RACE_TOOL = "continue"
PAIR = ("claude-4-sonnet", "smolvlm-2-5")
RACE_PAIR = ("aider", "cursor")


class VoteServer(ThreadedWSGIServer):
    request_queue_size = 256


@pytest.fixture
def server_url(transactional_db):
    server = VoteServer(("127.0.0.1", 0), QuietWSGIRequestHandler, allow_reuse_address=False)
    server.set_app(get_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


class Voter:
    """One signed-in reader speaking plain HTTP to the live server."""

    def __init__(self, base_url: str, session: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.cookies = {"sessionid": session}

    def request(self, method: str, path: str, body: dict | None = None, htmx: bool = False):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        if htmx:
            headers["HX-Request"] = "true"
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, response.headers.get("X-Vote-Accepted")
        finally:
            conn.close()

    def vote_tool(self, slug: str, value: str):
        return self.request("POST", f"/votes/tool/{slug}/", {"value": value}, htmx=True)

    def vote_pair(self, winner: str, pair: tuple[str, str] = PAIR):
        return self.request("POST", f"/votes/pair/{pair[0]}/{pair[1]}/", {"winner": winner}, True)


def plan_for(i: int) -> list[tuple[str, str, str]]:
    """Each voter's sequential votes: the last one per target is the one that must stick."""
    first, second = ("ship", "skip") if i % 3 else ("skip", "ship")
    steps = [("tool", slug, first) for slug in SEQUENCE_TOOLS]
    steps += [("tool", SEQUENCE_TOOLS[0], second), ("pair", "", PAIR[i % 2])]
    steps += [("pair", "", PAIR[(i // 2) % 2])]
    return steps


def test_concurrent_voters_are_each_counted_exactly_once(server_url, starter_catalog):
    people = [create_member(f"crowd{i}@example.com") for i in range(VOTERS)]
    voters = []
    for person in people:
        client = Client()
        client.force_login(person)
        voter = Voter(server_url, client.cookies["sessionid"].value)
        assert voter.request("GET", "/rankings/")[0] == 200  # picks up the CSRF cookie
        voters.append(voter)

    def run(i: int) -> list[tuple[int, str | None]]:
        voter, results = voters[i], []
        for kind, slug, value in plan_for(i):
            results.append(
                voter.vote_tool(slug, value) if kind == "tool" else voter.vote_pair(value)
            )
        return results

    def race(i: int, value: str) -> tuple[int, str | None]:
        # The same account twice at once on one tool (and on one pair): one row must
        # come out, not two, and no request may fail.
        if value in RACE_PAIR:
            return voters[i].vote_pair(value, RACE_PAIR)
        return voters[i].vote_tool(RACE_TOOL, value)

    raced = ("ship", "skip", *RACE_PAIR)
    with ThreadPoolExecutor(max_workers=2 * VOTERS) as pool:
        sequences = [pool.submit(run, i) for i in range(VOTERS)]
        races = [pool.submit(race, i, v) for i in range(VOTERS) for v in raced]
        results = [r for f in sequences for r in f.result()] + [f.result() for f in races]

    statuses = Counter(status for status, _ in results)
    assert statuses == {200: len(results)}, statuses  # no 500s, nothing refused
    accepted = sum(1 for _, flag in results if flag == "1")
    assert accepted == len(results)

    # Every accepted vote is in the log exactly once ...
    assert VoteEvent.objects.count() == accepted
    # ... and the current votes are one per account and target.
    assert ToolVote.objects.count() == VOTERS * (len(SEQUENCE_TOOLS) + 1)
    assert PairVote.objects.count() == 2 * VOTERS

    # Sequential votes: the last one sent is the one stored.
    tools = {t.slug: t for t in Tool.objects.all()}
    stored = {(v.user_id, v.tool_id): v.value for v in ToolVote.objects.all()}
    expected_ship = Counter()
    for i, person in enumerate(people):
        final: dict[str, str] = {}
        for kind, slug, value in plan_for(i):
            if kind == "tool":
                final[slug] = value
        for slug, value in final.items():
            assert stored[(person.pk, tools[slug].pk)] == value
            expected_ship[slug] += value == "ship"
    # Raced votes: the stored value is the one written last, as the log's order says.
    for person in people:
        last = VoteEvent.objects.filter(user=person, tool=tools[RACE_TOOL]).latest("pk")
        assert stored[(person.pk, tools[RACE_TOOL].pk)] == last.value
        last_pair = VoteEvent.objects.filter(user=person, kind="pair", tool__slug=RACE_PAIR[0])
        winner = PairVote.objects.get(user=person, tool_a__slug=RACE_PAIR[0]).winner.slug
        assert winner == last_pair.latest("pk").value

    figures = community_figures([tools[s] for s in SEQUENCE_TOOLS])
    for slug in SEQUENCE_TOOLS:
        assert figures[tools[slug].pk].votes == VOTERS
        assert figures[tools[slug].pk].ship == expected_ship[slug]
    split = pair_split(tools[PAIR[0]], tools[PAIR[1]])
    expected_left = sum(1 for i in range(VOTERS) if PAIR[(i // 2) % 2] == PAIR[0])
    assert (split.left_votes, split.total) == (expected_left, VOTERS)
    assert pair_split(tools[RACE_PAIR[0]], tools[RACE_PAIR[1]]).total == VOTERS
