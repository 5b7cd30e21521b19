"""The one way the server downloads from a URL it was handed (results today; anything later).

A result URL arrives in FoxAPI's answer, which the studio does not control. Fetched
naively, whoever shapes that answer could make the server read its own loopback ports,
the private network or a cloud metadata service, and hold a download worker for ever.
So every fetch here:

- goes to http or https only, at every hop;
- resolves the host once, refuses it unless every address is public, and connects to the
  address it checked, so a second DNS answer cannot slip in between (DNS rebinding);
- follows redirects itself, a bounded number, each hop through the same checks;
- ends at a total deadline as well as per read, and at a size cap.

The FoxAPI base URL's own origin is exempt from the address check, since the upstream
itself serves results there (the emulator on loopback does), and so are the hosts an
operator lists in STUDIO_ALLOWED_FETCH_HOSTS.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import httpx

from studio.errors import (
    AddressNotAllowed,
    ConnectionFailed,
    DownloadFailed,
    DownloadTooLarge,
    DownloadTooSlow,
    FoxAPIError,
    NotAnImage,
    RateLimited,
    RequestTimedOut,
    ResultExpired,
    ServerError,
)
from studio.settings import DEFAULTS, Settings

logger = logging.getLogger(__name__)

# host, port -> the addresses the host resolves to, as text. Injectable so that tests can
# name private and rebinding targets without ever connecting to them.
Resolver = Callable[[str, int], Sequence[str]]
Origin = tuple[str, str, int]

MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)  # per read / per connect
NOT_ALLOWED = "The result could not be fetched: its address is not allowed."
NOT_A_WEB_LINK = "The image's address is not a web link the studio can download from."
USER_AGENT = "image-studio"

_DEFAULT_PORTS = {"http": 80, "https": 443}
_EXPIRED_STATUSES = frozenset({403, 404, 410})
_DELTA_SECONDS = re.compile(r"\d+(?:\.\d+)?")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_HOST_NAME = re.compile(r"[a-z0-9.\-]+|[0-9a-f:.]+")


@dataclass(frozen=True)
class DownloadedFile:
    content: bytes
    content_type: str


def system_resolver(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


@dataclass(frozen=True)
class FetchPolicy:
    """What may be fetched, for how long and how much. Build it with `from_settings`."""

    deadline_seconds: float
    max_bytes: int
    # (host, port); port None allows every port of that host.
    allowed_hosts: frozenset[tuple[str, int | None]] = frozenset()
    allowed_origins: frozenset[Origin] = frozenset()
    resolver: Resolver = system_resolver

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        return cls(
            deadline_seconds=settings.studio_download_deadline_seconds,
            max_bytes=settings.studio_max_download_bytes,
            allowed_hosts=frozenset(
                parse_allowed_host(entry) for entry in settings.studio_allowed_fetch_hosts
            ),
            allowed_origins=frozenset({origin(httpx.URL(settings.foxapi_base_url))}),
        )

    @classmethod
    def defaults(cls) -> Self:
        """The policy the settings' defaults give, without reading the environment."""
        return cls.from_settings(DEFAULTS)


def parse_allowed_host(entry: str) -> tuple[str, int | None]:
    """`host` or `host:port` (an IPv6 address in brackets) as (host, port or None)."""
    try:
        url = httpx.URL(f"http://{entry.strip()}")
    except httpx.InvalidURL:
        url = None
    if (
        url is None
        or not _HOST_NAME.fullmatch(url.host)
        or url.path not in ("", "/")
        or url.query
        or url.userinfo
    ):
        raise ValueError(
            f"STUDIO_ALLOWED_FETCH_HOSTS: “{entry}” is not a host or host:port "
            "(for example images.internal or 10.0.0.5:9000)."
        )
    explicit_port = re.search(r":(\d+)$", entry.strip())
    return url.host, int(explicit_port.group(1)) if explicit_port else None


def origin(url: httpx.URL) -> Origin:
    return (url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 0))


def refusal(address: str) -> str | None:
    """Why the studio will not connect to `address`, or None when it is public."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        # Addresses that carry an IPv4 address inside reach that address.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and (reason := refusal(str(embedded))):
            return f"{address} carries {reason}"
    kinds = {
        "loopback": ip.is_loopback,
        "link-local": ip.is_link_local,
        "multicast": ip.is_multicast,
        "unspecified": ip.is_unspecified,
        "reserved": ip.is_reserved,
        "private": ip.is_private,
        "non-public": not ip.is_global,
    }
    kind = next((name for name, applies in kinds.items() if applies), None)
    return f"{address}, a {kind} address" if kind else None


class GuardedTransport(httpx.BaseTransport):
    """Sends a request only to a checked, public address (or a trusted origin).

    The request goes to the IP that was checked, with the original Host header and, for
    https, the original name as SNI, so certificates are still verified for that name.
    Connections are not kept alive: a kept connection would be found by IP and port, and
    could carry a later request for another name served at the same address.
    """

    def __init__(self, policy: FetchPolicy, inner: httpx.BaseTransport | None = None) -> None:
        self._policy = policy
        self._inner = inner or httpx.HTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
        self._lock = threading.Lock()
        self._trusted_origins = set(policy.allowed_origins)

    def trust_origin(self, url: str) -> None:
        """Fetch from this URL's origin without the address check (an upstream's own)."""
        with self._lock:
            self._trusted_origins.add(origin(httpx.URL(url)))

    def is_trusted(self, url: httpx.URL) -> bool:
        port = url.port or _DEFAULT_PORTS.get(url.scheme, 0)
        hosts = self._policy.allowed_hosts
        with self._lock:
            trusted_origin = origin(url) in self._trusted_origins
        return trusted_origin or (url.host, None) in hosts or (url.host, port) in hosts

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in _DEFAULT_PORTS:
            raise AddressNotAllowed(NOT_ALLOWED, detail=f"{url.scheme}: links are never fetched")
        if self.is_trusted(url):
            return self._inner.handle_request(request)
        address = self._checked_address(request)
        extensions = dict(request.extensions)
        if url.scheme == "https" and url.host != address:
            extensions["sni_hostname"] = url.host
        pinned = httpx.Request(
            request.method,
            url.copy_with(host=address),
            headers=request.headers,  # keeps Host: the original name
            stream=request.stream,
            extensions=extensions,
        )
        return self._inner.handle_request(pinned)

    def close(self) -> None:
        self._inner.close()

    def _checked_address(self, request: httpx.Request) -> str:
        host = request.url.host
        port = request.url.port or _DEFAULT_PORTS[request.url.scheme]
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = [
                    str(ipaddress.ip_address(a)) for a in self._policy.resolver(host, port)
                ]
            except (OSError, ValueError) as exc:
                raise httpx.ConnectError(f"{host} could not be resolved", request=request) from exc
        if not addresses:
            raise httpx.ConnectError(f"{host} resolved to no address", request=request)
        # One internal address among public ones refuses the host: the connection might
        # otherwise land on it.
        for address in addresses:
            if reason := refusal(address):
                raise AddressNotAllowed(NOT_ALLOWED, detail=f"{host} resolves to {reason}")
        return addresses[0]


class Fetcher:
    """Downloads images under a FetchPolicy. Safe to share between threads; close it when done."""

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.policy = policy
        self._timeout = timeout
        # Requests go to the transport directly, not through an httpx.Client: a client
        # would build (and choke on) each redirect itself. Here fetch_image follows them,
        # each hop checked, and no key or cookie is ever sent.
        self._guard = GuardedTransport(policy, transport)

    def trust_origin(self, url: str) -> None:
        self._guard.trust_origin(url)

    def fetch_image(self, url: str) -> DownloadedFile:
        """The image at `url`, after at most MAX_REDIRECTS checked redirects, within the deadline.

        Raises a FoxAPIError subclass naming what went wrong in words a person understands.
        """
        deadline = time.monotonic() + self.policy.deadline_seconds
        target = _web_link(url)
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send(target, deadline)
            if not response.is_redirect:
                return self._read_image(response, deadline)
            response.close()
            target = self._redirect_target(response)
        raise DownloadFailed(
            f"The result could not be fetched: it was redirected more than {MAX_REDIRECTS} times."
        )

    def close(self) -> None:
        self._guard.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _send(self, url: httpx.URL, deadline: float) -> httpx.Response:
        remaining = self._remaining(deadline)
        timeout = httpx.Timeout(
            connect=_capped(self._timeout.connect, remaining),
            read=_capped(self._timeout.read, remaining),
            write=_capped(self._timeout.write, remaining),
            pool=_capped(self._timeout.pool, remaining),
        )
        request = httpx.Request(
            "GET",
            url,
            headers={"User-Agent": USER_AGENT, "Accept": "image/*"},
            extensions={"timeout": timeout.as_dict()},
        )
        try:
            response = self._guard.handle_request(request)
            response.request = request
        except AddressNotAllowed as exc:
            self._log_refusal(url, exc.detail)
            raise
        except httpx.TransportError as exc:
            error = self._transport_error(exc, url.host, deadline)
            logger.info("GET %s%s failed: %s", url.host, url.path, error.message)
            raise error from exc
        logger.debug("GET %s%s answered %d", url.host, url.path, response.status_code)
        if response.is_success or response.is_redirect:
            return response
        response.close()
        raise _status_error(response)

    def _read_image(self, response: httpx.Response, deadline: float) -> DownloadedFile:
        host = response.url.host
        try:
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if not content_type.startswith("image/"):
                shown = content_type or "a file with no content type"
                raise NotAnImage(
                    f"The result was not an image: {host} sent {shown}, so nothing was saved.",
                    status=response.status_code,
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.policy.max_bytes:
                raise self._too_large(response.status_code)
            content = bytearray()
            for chunk in response.iter_bytes():
                content += chunk
                if len(content) > self.policy.max_bytes:
                    raise self._too_large(response.status_code)
                self._remaining(deadline)
        except httpx.TransportError as exc:
            raise self._transport_error(exc, host, deadline) from exc
        except httpx.DecodingError as exc:
            raise DownloadFailed(f"{host} sent an image that arrived garbled.") from exc
        finally:
            response.close()
        if not content:
            raise NotAnImage(f"The result was not an image: {host} sent an empty file.")
        return DownloadedFile(content=bytes(content), content_type=content_type)

    def _redirect_target(self, response: httpx.Response) -> httpx.URL:
        location = response.headers["location"]
        scheme = urlsplit(location).scheme.lower()
        if scheme and scheme not in _DEFAULT_PORTS:
            self._log_refusal(response.url, f"it redirects to a {scheme}: link")
            raise AddressNotAllowed(NOT_ALLOWED, detail=f"redirected to a {scheme}: link")
        try:
            target = response.url.join(location)
            httpx.Request("GET", target)  # what send would refuse, refused here by name
        except httpx.InvalidURL:
            raise DownloadFailed(
                f"The result could not be fetched: {response.url.host} redirected it to an "
                "address that is not a web link."
            ) from None
        return target

    def _remaining(self, deadline: float) -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DownloadTooSlow(
                "The result could not be fetched: it did not arrive within "
                f"{self.policy.deadline_seconds:g} s."
            )
        return remaining

    def _transport_error(
        self, exc: httpx.TransportError, host: str, deadline: float
    ) -> FoxAPIError:
        if isinstance(exc, httpx.TimeoutException):
            self._remaining(deadline)  # past the deadline: say so, rather than "no answer"
        return transport_error(exc, f"the image host {host}")

    def _too_large(self, status: int) -> DownloadTooLarge:
        limit_mb = self.policy.max_bytes / (1024 * 1024)
        return DownloadTooLarge(
            f"The result could not be fetched: it is larger than the {limit_mb:g} MB "
            "the studio accepts.",
            status=status,
        )

    @staticmethod
    def _log_refusal(url: httpx.URL, why: str | None) -> None:
        logger.warning("Refused to fetch from %s%s: %s", url.host, url.path, why)


def transport_error(exc: httpx.TransportError, place: str) -> FoxAPIError:
    """A network failure as an error that says whether the request may have arrived."""
    detail = type(exc).__name__
    # No connection was made (or none was free): the request provably never left.
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return ConnectionFailed(
            f"Could not reach {place}. Check your network connection.", detail=detail
        )
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimedOut(f"{_capitalised(place)} did not answer in time.", detail=detail)
    # The connection broke after the request may have been sent: as uncertain as a timeout.
    return RequestTimedOut(
        f"The connection to {place} broke before an answer arrived.", detail=detail
    )


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta seconds or an HTTP date).

    None when the header is missing, unreadable or negative, so the caller uses its backoff.
    `now` is the current Unix time, used for the date form.
    """
    if value is None:
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    seconds = when.timestamp() - now
    return seconds if seconds >= 0 else None


def retry_after(response: httpx.Response) -> float | None:
    return parse_retry_after(response.headers.get("retry-after"), now=time.time())


def _web_link(url: str) -> httpx.URL:
    """`url` as an http(s) link; AddressNotAllowed (final: no try can change it) if not."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise AddressNotAllowed(NOT_A_WEB_LINK, detail="an unreadable address") from None
    if parsed.scheme not in _DEFAULT_PORTS or not parsed.host:
        raise AddressNotAllowed(NOT_A_WEB_LINK, detail=f"a {parsed.scheme or 'relative'}: link")
    return parsed


def _status_error(response: httpx.Response) -> FoxAPIError:
    status = response.status_code
    host = response.url.host
    if status in _EXPIRED_STATUSES:
        return ResultExpired(
            "This image's download link has expired or no longer works, so the image cannot "
            "be fetched. FoxAPI keeps results for 24 hours.",
            status=status,
        )
    if status == 429:
        return RateLimited(
            f"The image host {host} is busy (rate limited). Wait a moment, then try again.",
            retry_after=retry_after(response),
            status=status,
        )
    if status >= 500:
        return ServerError(
            f"The image host {host} had a server problem ({status}). Try again in a little while.",
            status=status,
        )
    return DownloadFailed(
        f"The image could not be downloaded: {host} answered {status}.", status=status
    )


def _capped(seconds: float | None, remaining: float) -> float:
    return remaining if seconds is None else min(seconds, remaining)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
