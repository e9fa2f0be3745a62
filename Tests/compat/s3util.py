"""Helpers of the compatibility suite: a SigV4 signer for hand-made requests, aws-chunked encoders,
checksums, deterministic payloads, and a raw HTTP client that sends exactly the bytes a test asks for.

The signer is our own (not botocore's) so that tests can sign what no SDK sends on purpose: skewed
clocks, wrong secrets, per-chunk signatures, trailer signatures, presigned URLs with bad expiries.
test_selfcheck.py checks it against botocore and against the examples published in the AWS docs.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import socket
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from botocore import httpchecksum

REGION = "us-east-1"
SERVICE = "s3"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"

# ---------------------------------------------------------------------------------------------------
# Payloads and hashes


def payload(size: int, seed: int = 0) -> bytes:
    """Deterministic, incompressible-looking bytes of `size` (a keyed SHA-256 stream)."""
    out = bytearray()
    counter = 0
    key = seed.to_bytes(8, "big")
    while len(out) < size:
        out += hashlib.sha256(key + counter.to_bytes(8, "big")).digest() * 64  # 2 KiB per step
        counter += 1
    return bytes(out[:size])


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def multipart_etag(parts: list[bytes]) -> str:
    """S3's multipart ETag: hex MD5 of the concatenated binary part MD5s, then '-N' (quoted)."""
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


CHECKSUM_ALGORITHMS = ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"]


def checksum_b64(algorithm: str, data: bytes) -> str:
    """The base64 value S3 puts in x-amz-checksum-<algorithm> (botocore's implementations, with awscrt)."""
    cls = httpchecksum._CHECKSUM_CLS[algorithm.lower()]  # noqa: SLF001 - the table botocore itself uses
    c = cls()
    c.update(data)
    return c.b64digest()


# ---------------------------------------------------------------------------------------------------
# SigV4


def uri_encode(value: str, safe: str = "-_.~") -> str:
    """AWS UriEncode: every byte except unreserved characters percent-encoded, upper-case hex."""
    return urllib.parse.quote(value, safe=safe)


def encode_key_path(bucket: str | None, key: str | None) -> str:
    """Path-style request path for bucket/key, encoded the way SDKs do (slashes kept)."""
    path = "/"
    if bucket:
        path += bucket
        if key is not None:
            path += "/" + uri_encode(key, safe="-_.~/")
    elif key is not None:
        path += uri_encode(key, safe="-_.~/")
    return path


def amz_now(offset: dt.timedelta = dt.timedelta(0)) -> str:
    return (dt.datetime.now(dt.timezone.utc) + offset).strftime("%Y%m%dT%H%M%SZ")


def signing_key(secret_key: str, date: str, region: str = REGION, service: str = SERVICE) -> bytes:
    k = hmac.new(("AWS4" + secret_key).encode(), date.encode(), hashlib.sha256).digest()
    k = hmac.new(k, region.encode(), hashlib.sha256).digest()
    k = hmac.new(k, service.encode(), hashlib.sha256).digest()
    return hmac.new(k, b"aws4_request", hashlib.sha256).digest()


def hmac_hex(key: bytes, msg: str) -> str:
    return hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()


def canonical_query(query: list[tuple[str, str]]) -> str:
    pairs = sorted((uri_encode(k), uri_encode(v)) for k, v in query)
    return "&".join(f"{k}={v}" for k, v in pairs)


@dataclass
class Signed:
    """A signed request: the headers to send (including Authorization) and what the signature was."""

    headers: dict[str, str]
    signature: str
    amz_date: str
    scope: str
    key: bytes


def sign_headers(
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: dict[str, str],
    payload_hash: str,
    access_key: str,
    secret_key: str,
    amz_date: str | None = None,
    region: str = REGION,
) -> Signed:
    """SigV4 in the Authorization header. `path` is the encoded path as sent; `headers` must hold Host."""
    amz_date = amz_date or amz_now()
    date = amz_date[:8]
    headers = dict(headers)
    headers["x-amz-date"] = amz_date
    headers["x-amz-content-sha256"] = payload_hash
    names = sorted({k.lower() for k in headers})
    lowered = {k.lower(): " ".join(str(v).strip().split()) for k, v in headers.items()}
    canonical_headers = "".join(f"{n}:{lowered[n]}\n" for n in names)
    signed_names = ";".join(names)
    canonical = "\n".join(
        [method, path, canonical_query(query), canonical_headers, signed_names, payload_hash]
    )
    scope = f"{date}/{region}/{SERVICE}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = signing_key(secret_key, date, region)
    sig = hmac_hex(key, to_sign)
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed_names}, Signature={sig}"
    )
    return Signed(headers=headers, signature=sig, amz_date=amz_date, scope=scope, key=key)


def presign_url(
    endpoint: str,
    method: str,
    path: str,
    access_key: str,
    secret_key: str,
    expires: int,
    extra_query: list[tuple[str, str]] | None = None,
    amz_date: str | None = None,
    region: str = REGION,
) -> str:
    """A query-string-signed (presigned) URL with X-Amz-Expires=`expires` and only Host signed."""
    amz_date = amz_date or amz_now()
    date = amz_date[:8]
    host = urllib.parse.urlsplit(endpoint).netloc
    scope = f"{date}/{region}/{SERVICE}/aws4_request"
    query = list(extra_query or []) + [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Credential", f"{access_key}/{scope}"),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    canonical = "\n".join(
        [method, path, canonical_query(query), f"host:{host}\n", "host", "UNSIGNED-PAYLOAD"]
    )
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    sig = hmac_hex(signing_key(secret_key, date, region), to_sign)
    return f"{endpoint}{path}?{canonical_query(query)}&X-Amz-Signature={sig}"


# ---------------------------------------------------------------------------------------------------
# aws-chunked bodies


def chunk_string_to_sign(amz_date: str, scope: str, previous: str, chunk: bytes) -> str:
    return "\n".join(
        [
            "AWS4-HMAC-SHA256-PAYLOAD",
            amz_date,
            scope,
            previous,
            EMPTY_SHA256,
            hashlib.sha256(chunk).hexdigest(),
        ]
    )


def signed_chunks(data: bytes, chunk_size: int, signed: Signed, trailer: dict[str, str] | None = None) -> bytes:
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) body: each chunk signed, chained from the seed
    signature; with `trailer`, the trailing headers and their x-amz-trailer-signature follow."""
    out = bytearray()
    previous = signed.signature
    pieces = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    for piece in pieces:
        sig = hmac_hex(signed.key, chunk_string_to_sign(signed.amz_date, signed.scope, previous, piece))
        out += f"{len(piece):x};chunk-signature={sig}\r\n".encode()
        if piece:
            out += piece + b"\r\n"
        previous = sig
    if trailer is None:
        out += b"\r\n"
        return bytes(out)
    canonical_trailer = "".join(f"{k}:{v}\n" for k, v in trailer.items())
    trailer_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256-TRAILER",
            signed.amz_date,
            signed.scope,
            previous,
            hashlib.sha256(canonical_trailer.encode()).hexdigest(),
        ]
    )
    trailer_sig = hmac_hex(signed.key, trailer_to_sign)
    for k, v in trailer.items():
        out += f"{k}:{v}\r\n".encode()
    out += f"x-amz-trailer-signature:{trailer_sig}\r\n\r\n".encode()
    return bytes(out)


def unsigned_chunks(data: bytes, chunk_size: int, trailer: dict[str, str] | None = None) -> bytes:
    """STREAMING-UNSIGNED-PAYLOAD-TRAILER body (what boto3 sends over TLS): plain chunks, then trailer."""
    out = bytearray()
    for i in range(0, len(data), chunk_size):
        piece = data[i : i + chunk_size]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    out += b"0\r\n"
    for k, v in (trailer or {}).items():
        out += f"{k}:{v}\r\n".encode()
    out += b"\r\n"
    return bytes(out)


# ---------------------------------------------------------------------------------------------------
# Raw HTTP


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    reason: str = ""
    raw_headers: list[tuple[str, str]] = field(default_factory=list)

    def xml(self) -> ET.Element:
        return ET.fromstring(self.body)

    def error_code(self) -> str | None:
        if not self.body:
            return None
        try:
            root = self.xml()
        except ET.ParseError:
            return None
        code = root.find("Code")
        if code is None:
            code = root.find(S3_NS + "Code")
        return code.text if code is not None else None


def xml_text(root: ET.Element, name: str) -> str | None:
    el = root.find(name)
    if el is None:
        el = root.find(S3_NS + name)
    return el.text if el is not None else None


def xml_all(root: ET.Element, path: str) -> list[ET.Element]:
    found = root.findall(path)
    if not found:
        found = root.findall("/".join(S3_NS + p for p in path.split("/")))
    return found


class RawClient:
    """Sends one HTTP request with exactly the given path, headers and body (no SDK in between)."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str):
        parsed = urllib.parse.urlsplit(endpoint)
        self.endpoint = endpoint.rstrip("/")
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.netloc = parsed.netloc
        self.access_key = access_key
        self.secret_key = secret_key

    def connect(self, timeout: float = 30) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        sign: bool = True,
        payload_hash: str | None = None,
        amz_date: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        host: str | None = None,
        conn: http.client.HTTPConnection | None = None,
    ) -> Response:
        query = query or []
        hdrs = {"Host": host or self.netloc}
        hdrs.update(headers or {})
        if sign:
            ph = payload_hash or hashlib.sha256(body).hexdigest()
            hdrs = sign_headers(
                method, path, query, hdrs, ph, access_key or self.access_key,
                secret_key or self.secret_key, amz_date,
            ).headers
        target = path + (("?" + canonical_query(query)) if query else "")
        own = conn is None
        conn = conn or self.connect()
        try:
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for k, v in hdrs.items():
                conn.putheader(k, v)
            if "content-length" not in {k.lower() for k in hdrs} and (body or method in ("PUT", "POST")):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body if body else None)
            r = conn.getresponse()
            data = r.read()
            return Response(
                status=r.status,
                headers={k.lower(): v for k, v in r.getheaders()},
                body=data,
                reason=r.reason,
                raw_headers=r.getheaders(),
            )
        finally:
            if own:
                conn.close()


def read_http_response(sock: socket.socket, timeout: float = 10) -> bytes:
    """Reads from a raw socket until the peer closes or a full response (by Content-Length) arrived."""
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        data += chunk
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            status_line = head.split(b"\r\n", 1)[0]
            parts = status_line.split(b" ")
            if len(parts) > 1 and parts[1] == b"100":
                data = rest
                continue
            length = None
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length is not None and len(rest) >= length:
                break
    return data
