"""A minimal S3 client (Tests/Jepsen-style, ops/cluster's health probe): SigV4 (header auth), path-style, one connection, no retries.

No SDK on purpose: an SDK retries on its own, and a retried conditional PUT can answer 412 for a write
that did apply, which would turn an unknown outcome into a false "definite failure". Here every request is
sent exactly once; a transport error or a timeout is raised to the caller, who records it as `info`.
Standard library only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass

REGION = "us-east-1"
S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def _quote(value: str, safe: str = "-_.~") -> str:
    return urllib.parse.quote(value, safe=safe)


def _signing_key(secret: str, date: str, region: str) -> bytes:
    key = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def error_code(self) -> str | None:
        if self.status < 300 or not self.body:
            return None
        try:
            return ET.fromstring(self.body).findtext("Code")
        except ET.ParseError:
            return None

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-amz-request-id")


class S3:
    """One endpoint, one keep-alive connection (reopened after any error). Not thread-safe: one per worker."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, timeout: float = 5.0, region: str = REGION):
        parsed = urllib.parse.urlsplit(endpoint)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.access_key, self.secret_key, self.timeout, self.region = access_key, secret_key, timeout, region
        self._connection: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def request(self, method: str, bucket: str, key: str | None = None, query: list[tuple[str, str]] | None = None,
                headers: dict[str, str] | None = None, body: bytes = b"") -> Response:
        path = "/" + bucket + ("/" + _quote(key, safe="-_.~/") if key is not None and bucket else "")
        query = query or []
        canonical_query = "&".join(f"{k}={v}" for k, v in sorted((_quote(k), _quote(v)) for k, v in query))
        now = dt.datetime.now(dt.timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        payload_hash = hashlib.sha256(body).hexdigest()
        send = {"host": f"{self.host}:{self.port}", "x-amz-date": amz_date, "x-amz-content-sha256": payload_hash}
        for name, value in (headers or {}).items():
            send[name.lower()] = value
        names = sorted(send)
        canonical = "\n".join([method, path, canonical_query, "".join(f"{n}:{send[n].strip()}\n" for n in names),
                               ";".join(names), payload_hash])
        scope = f"{amz_date[:8]}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        signature = hmac.new(_signing_key(self.secret_key, amz_date[:8], self.region), to_sign.encode(),
                             hashlib.sha256).hexdigest()
        send["authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
                                 f"SignedHeaders={';'.join(names)}, Signature={signature}")
        if method in ("PUT", "POST") or body:
            send["content-length"] = str(len(body))
        target = path + ("?" + canonical_query if canonical_query else "")
        try:
            if self._connection is None:
                self._connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._connection.request(method, target, body=body or None, headers=send)
            response = self._connection.getresponse()
            data = response.read()
            result = Response(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
            if response.getheader("connection", "").lower() == "close":
                self.close()
            return result
        except BaseException:
            self.close()
            raise

    # --- the few operations the workloads use -------------------------------------------------------------

    def list_keys(self, bucket: str, prefix: str, max_keys: int = 1000) -> tuple[Response, list[str], bool]:
        """One ListObjectsV2 page: (response, keys, truncated)."""
        response = self.request("GET", bucket, query=[("list-type", "2"), ("prefix", prefix),
                                                      ("max-keys", str(max_keys))])
        if response.status != 200:
            return response, [], False
        root = ET.fromstring(response.body)
        keys = [element.findtext(f"{S3_NS}Key") or "" for element in root.iter(f"{S3_NS}Contents")]
        truncated = (root.findtext(f"{S3_NS}IsTruncated") or "false").lower() == "true"
        return response, keys, truncated
