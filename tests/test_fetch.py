"""The fetch policy: only public addresses, every redirect re-checked, a deadline and a cap.

Nothing here leaves loopback. Internal targets other than loopback are named through an
injected resolver and refused before any connection; the transport behind the policy is
then an httpx.MockTransport that records whatever would have been sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest

from studio.errors import (
    AddressNotAllowed,
    ConnectionFailed,
    DownloadFailed,
    DownloadTooLarge,
    DownloadTooSlow,
)
from studio.fetch import (
    MAX_REDIRECTS,
    NOT_A_WEB_LINK,
    NOT_ALLOWED,
    Fetcher,
    FetchPolicy,
    parse_allowed_host,
    refusal,
)
from studio.settings import Settings
from tests.http_support import (
    PNG_BYTES,
    LoopbackServer,
    dripping_server,
    redirect_to,
    serve_png,
)

PUBLIC = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"

INTERNAL_ADDRESSES = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.5",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # a cloud's metadata service
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",  # noqa: S104 (an address refused, not one bound to)
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
]


class Resolver:
    """A DNS stand-in: answers from a table, one answer list per lookup, and counts lookups."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = [list(answer) for answer in answers] or [[PUBLIC]]
        self.lookups: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append((host, port))
        index = min(len(self.lookups), len(self.answers)) - 1
        return self.answers[index]


class Recorder:
    """The network behind the policy: records each request it would send, answers a PNG."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.answers:
            answer = self.answers.pop(0)
            return httpx.Response(
                answer.status_code, headers=answer.headers, content=answer.content
            )
        return httpx.Response(200, headers={"content-type": "image/png"}, content=PNG_BYTES)


def policy(resolver: Resolver | None = None, **fields: object) -> FetchPolicy:
    values: dict[str, object] = {"deadline_seconds": 30.0, "max_bytes": 1024 * 1024}
    values |= fields
    return FetchPolicy(resolver=resolver or Resolver(), **values)  # type: ignore[arg-type]


def fetcher(recorder: Recorder, resolver: Resolver | None = None, **fields: object) -> Fetcher:
    return Fetcher(policy(resolver, **fields), transport=httpx.MockTransport(recorder))


@pytest.fixture
def canary() -> Iterator[LoopbackServer]:
    """A server on loopback that the studio must never reach."""
    server = LoopbackServer(serve_png)
    yield server
    server.stop()


@pytest.fixture
def real_network_fetcher() -> Iterator[Fetcher]:
    """The real transport (so a mistake would really connect), with a resolver that knows
    `canary.test` as loopback."""
    resolver = Resolver(["127.0.0.1"])
    with Fetcher(policy(resolver)) as opened:
        yield opened


# Internal addresses are refused before connecting


def test_a_result_url_on_loopback_never_reaches_it(
    canary: LoopbackServer, real_network_fetcher: Fetcher
) -> None:
    for url in (
        canary.url("/secret.png"),
        f"http://localhost:{canary.port}/secret.png",
        f"http://canary.test:{canary.port}/secret.png",
        f"http://[::ffff:127.0.0.1]:{canary.port}/secret.png",
        f"http://2130706433:{canary.port}/secret.png",  # 127.0.0.1 spelt as one number
    ):
        with pytest.raises(AddressNotAllowed) as refused:
            real_network_fetcher.fetch_image(url)
        assert refused.value.message == NOT_ALLOWED
    assert canary.hits == []


@pytest.mark.parametrize("address", INTERNAL_ADDRESSES)
def test_a_name_resolving_to_an_internal_address_is_refused_unsent(address: str) -> None:
    recorder = Recorder()
    with pytest.raises(AddressNotAllowed) as refused:
        fetcher(recorder, Resolver([address])).fetch_image("https://images.example/a.png")
    assert refused.value.message == "The result could not be fetched: its address is not allowed."
    assert "images.example" in (refused.value.detail or "")
    assert recorder.requests == []


@pytest.mark.parametrize("address", INTERNAL_ADDRESSES)
def test_an_internal_address_written_in_the_url_is_refused_unsent(address: str) -> None:
    recorder = Recorder()
    host = f"[{address}]" if ":" in address else address
    resolver = Resolver()
    with pytest.raises(AddressNotAllowed):
        fetcher(recorder, resolver).fetch_image(f"http://{host}:8080/a.png")
    assert recorder.requests == []
    assert resolver.lookups == []  # an address needs no lookup


def test_one_internal_address_among_public_ones_refuses_the_host() -> None:
    recorder = Recorder()
    with pytest.raises(AddressNotAllowed):
        fetcher(recorder, Resolver([PUBLIC, "10.1.2.3"])).fetch_image("https://cdn.example/a.png")
    assert recorder.requests == []


def test_the_connection_goes_to_the_address_that_was_checked() -> None:
    # DNS rebinding: the first answer is public, any later one points inside. The studio
    # resolves once and connects to that very address, with the name kept for Host and SNI.
    resolver = Resolver([PUBLIC], ["127.0.0.1"])
    recorder = Recorder()
    downloaded = fetcher(recorder, resolver).fetch_image("https://cdn.example/r/a.png?sig=1")
    assert downloaded.content == PNG_BYTES
    (sent,) = recorder.requests
    assert str(sent.url) == f"https://{PUBLIC}/r/a.png?sig=1"
    assert sent.headers["host"] == "cdn.example"
    assert sent.extensions["sni_hostname"] == "cdn.example"
    assert resolver.lookups == [("cdn.example", 443)]


def test_a_rebound_name_is_refused_on_the_next_fetch() -> None:
    resolver = Resolver([PUBLIC], ["127.0.0.1"])
    recorder = Recorder()
    fetch = fetcher(recorder, resolver)
    fetch.fetch_image("http://cdn.example/a.png")
    with pytest.raises(AddressNotAllowed):
        fetch.fetch_image("http://cdn.example/a.png")
    assert len(recorder.requests) == 1


def test_an_ipv6_result_host_is_reached_at_its_checked_address() -> None:
    recorder = Recorder()
    fetcher(recorder, Resolver([PUBLIC_V6])).fetch_image("http://cdn6.example:8080/a.png")
    (sent,) = recorder.requests
    assert sent.url.host == PUBLIC_V6
    assert sent.url.port == 8080
    assert sent.headers["host"] == "cdn6.example:8080"


def test_a_name_that_does_not_resolve_reads_as_unreachable() -> None:
    def no_such_host(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    recorder = Recorder()
    with pytest.raises(ConnectionFailed, match=r"Could not reach the image host nowhere\.example"):
        Fetcher(
            FetchPolicy(deadline_seconds=5, max_bytes=100, resolver=no_such_host),
            transport=httpx.MockTransport(recorder),
        ).fetch_image("https://nowhere.example/a.png")
    assert recorder.requests == []


# Redirects


def test_every_redirect_is_checked_again(canary: LoopbackServer) -> None:
    recorder = Recorder(
        httpx.Response(302, headers={"location": "https://second.example/b.png"}),
        httpx.Response(307, headers={"location": canary.url("/secret.png")}),
    )
    resolver = Resolver([PUBLIC])
    with pytest.raises(AddressNotAllowed):
        fetcher(recorder, resolver).fetch_image("https://first.example/a.png")
    assert [sent.headers["host"] for sent in recorder.requests] == [
        "first.example",
        "second.example",
    ]
    assert canary.hits == []


@pytest.mark.parametrize(
    "location",
    ["file:///etc/passwd", "ftp://files.example/a.png", "gopher://example:70/", "data:,x"],
)
def test_a_redirect_off_the_web_is_refused(location: str) -> None:
    recorder = Recorder(httpx.Response(302, headers={"location": location}))
    with pytest.raises(AddressNotAllowed) as refused:
        fetcher(recorder).fetch_image("https://cdn.example/a.png")
    assert refused.value.message == NOT_ALLOWED
    assert len(recorder.requests) == 1


def test_a_redirect_to_an_internal_name_is_refused(canary: LoopbackServer) -> None:
    recorder = Recorder(httpx.Response(301, headers={"location": "http://metadata.example/"}))
    resolver = Resolver([PUBLIC], ["169.254.169.254"])
    with pytest.raises(AddressNotAllowed):
        fetcher(recorder, resolver).fetch_image("https://cdn.example/a.png")
    assert len(recorder.requests) == 1


def test_a_redirect_from_a_real_server_to_the_canary_is_refused(canary: LoopbackServer) -> None:
    # The redirecting host is allowed (as an operator could); where it points is not.
    redirector = LoopbackServer(redirect_to(canary.url("/secret.png")))
    try:
        allowed = frozenset({("127.0.0.1", redirector.port)})
        with Fetcher(policy(allowed_hosts=allowed)) as fetch, pytest.raises(AddressNotAllowed):
            fetch.fetch_image(redirector.url("/moved.png"))
        assert redirector.hits == ["/moved.png"]
        assert canary.hits == []
    finally:
        redirector.stop()


def test_a_relative_redirect_is_followed_on_the_same_host() -> None:
    recorder = Recorder(httpx.Response(302, headers={"location": "/final.png"}))
    fetcher(recorder).fetch_image("https://cdn.example/a.png")
    assert [sent.url.path for sent in recorder.requests] == ["/a.png", "/final.png"]


def test_redirects_are_bounded() -> None:
    loop = [
        httpx.Response(302, headers={"location": f"https://cdn.example/{hop}.png"})
        for hop in range(MAX_REDIRECTS + 1)
    ]
    recorder = Recorder(*loop)
    with pytest.raises(DownloadFailed, match=f"redirected more than {MAX_REDIRECTS} times"):
        fetcher(recorder).fetch_image("https://cdn.example/start.png")
    assert len(recorder.requests) == MAX_REDIRECTS + 1


# What is allowed despite being internal


def test_the_upstreams_own_origin_is_fetched_from_even_on_loopback() -> None:
    server = LoopbackServer(serve_png)
    try:
        with Fetcher(policy()) as fetch:
            with pytest.raises(AddressNotAllowed):
                fetch.fetch_image(server.url())
            fetch.trust_origin(f"http://{server.host_port}/v1")
            assert fetch.fetch_image(server.url()).content == PNG_BYTES
            # The origin, not the host: another port on loopback stays refused.
            with pytest.raises(AddressNotAllowed):
                fetch.fetch_image(f"http://127.0.0.1:{server.port + 1}/a.png")
            with pytest.raises(AddressNotAllowed):
                fetch.fetch_image(f"https://{server.host_port}/a.png")
        assert server.hits == ["/image.png"]
    finally:
        server.stop()


def test_the_configured_foxapi_origin_and_allowed_hosts_come_from_the_settings() -> None:
    settings = Settings(
        foxapi_base_url="http://127.0.0.1:8765",
        studio_allowed_fetch_hosts="images.internal, 10.0.0.5:9000 ,[fd00::7]:81",
        studio_download_deadline_seconds=7,
        studio_max_download_bytes=1234,
    )
    made = FetchPolicy.from_settings(settings)
    assert made.allowed_origins == {("http", "127.0.0.1", 8765)}
    assert made.allowed_hosts == {("images.internal", None), ("10.0.0.5", 9000), ("fd00::7", 81)}
    assert (made.deadline_seconds, made.max_bytes) == (7, 1234)


def test_allowed_hosts_skip_the_address_check_only_where_listed() -> None:
    recorder = Recorder()
    resolver = Resolver(["10.0.0.5"])
    allowed = frozenset({("store.internal", None), ("10.0.0.9", 9000)})
    fetch = fetcher(recorder, resolver, allowed_hosts=allowed)
    fetch.fetch_image("https://store.internal/a.png")
    fetch.fetch_image("http://10.0.0.9:9000/a.png")
    with pytest.raises(AddressNotAllowed):
        fetch.fetch_image("http://10.0.0.9:9001/a.png")
    with pytest.raises(AddressNotAllowed):
        fetch.fetch_image("https://other.internal/a.png")
    # Allowed hosts are sent to as named (the operator's own DNS decides).
    assert [str(sent.url) for sent in recorder.requests] == [
        "https://store.internal/a.png",
        "http://10.0.0.9:9000/a.png",
    ]


@pytest.mark.parametrize("entry", ["http://x.example", "x.example/path", "a b", ":80", "x:y"])
def test_an_allowed_host_that_is_not_host_or_host_port_is_refused(entry: str) -> None:
    with pytest.raises(ValueError, match="STUDIO_ALLOWED_FETCH_HOSTS"):
        parse_allowed_host(entry)


# Time and size


def test_a_dripping_body_is_ended_by_the_total_deadline() -> None:
    # One byte a second never trips the per-read timeout; only the whole-download deadline
    # can end it.
    server = dripping_server()
    try:
        allowed = frozenset({("127.0.0.1", server.port)})
        slow_policy = policy(allowed_hosts=allowed, deadline_seconds=1.5)
        with Fetcher(slow_policy) as fetch, pytest.raises(DownloadTooSlow) as slow:
            fetch.fetch_image(server.url())
        assert slow.value.message == (
            "The result could not be fetched: it did not arrive within 1.5 s."
        )
    finally:
        server.stop()


def test_a_result_over_the_cap_says_too_large() -> None:
    recorder = Recorder(
        httpx.Response(200, headers={"content-type": "image/png"}, content=b"x" * 2048)
    )
    with pytest.raises(DownloadTooLarge) as large:
        fetcher(recorder, max_bytes=1024).fetch_image("https://cdn.example/a.png")
    assert "larger than" in large.value.message
    assert "expired" not in large.value.message


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("10.0.0.1", "private"),
        ("224.0.0.1", "multicast"),
        ("::ffff:192.168.0.1", "private"),
        (PUBLIC, None),
        (PUBLIC_V6, None),
    ],
)
def test_refusal_names_the_kind_of_address(address: str, kind: str | None) -> None:
    reason = refusal(address)
    assert (reason is None) if kind is None else (kind in (reason or ""))


def test_the_data_folder_is_not_a_web_link(tmp_path: Path) -> None:
    recorder = Recorder()
    with pytest.raises(DownloadFailed, match="not a web link"):
        fetcher(recorder).fetch_image((tmp_path / "a.png").as_uri())
    assert recorder.requests == []


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://files.example/a.png", "data:image/png;base64,AA==", "x"]
)
def test_a_link_off_the_web_is_refused_as_final(url: str) -> None:
    # AddressNotAllowed, not a plain DownloadFailed: no later try can fetch it.
    recorder = Recorder()
    with pytest.raises(AddressNotAllowed) as refused:
        fetcher(recorder).fetch_image(url)
    assert refused.value.message == NOT_A_WEB_LINK
    assert recorder.requests == []
