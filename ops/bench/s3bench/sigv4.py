"""Presigned S3 URLs (SigV4 query authentication, UNSIGNED-PAYLOAD), many a second.

botocore's presigner costs about 0.2 ms a URL; a PUT run of the 4 KiB row needs up to 150,000 of them,
so this module signs them itself: one signing key per run, one HMAC per URL (about 30 us). The servers
check every signature: a wrong one is a 403, which wrk counts as an error.
"""

import datetime
import hashlib
import hmac
from urllib.parse import quote


def _uri(value, safe="-_.~"):
    return quote(value, safe=safe)


class Presigner:
    """Signs `METHOD /bucket/key?query` for one endpoint (host:port), one region, one point in time."""

    def __init__(self, host, access_key, secret_key, region, expires=3600, now=None):
        self.host = host
        self.expires = expires
        when = now or datetime.datetime.now(datetime.timezone.utc)
        self.amz_date = when.strftime("%Y%m%dT%H%M%SZ")
        day = when.strftime("%Y%m%d")
        self.scope = f"{day}/{region}/s3/aws4_request"
        key = f"AWS4{secret_key}".encode()
        for part in (day, region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        self.signing_key = key
        self.auth_params = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{access_key}/{self.scope}",
            "X-Amz-Date": self.amz_date,
            "X-Amz-Expires": str(expires),
            "X-Amz-SignedHeaders": "host",
        }

    def target(self, method, bucket, key="", params=None):
        """The request target (path and query, signature last) of a presigned request."""
        path = f"/{_uri(bucket)}" + (f"/{_uri(key, safe='-_.~/')}" if key else "")
        query = dict(self.auth_params)
        query.update(params or {})
        canonical_query = "&".join(f"{_uri(name)}={_uri(str(value))}" for name, value in sorted(query.items()))
        canonical = f"{method}\n{path}\n{canonical_query}\nhost:{self.host}\n\nhost\nUNSIGNED-PAYLOAD"
        to_sign = (f"AWS4-HMAC-SHA256\n{self.amz_date}\n{self.scope}\n"
                   f"{hashlib.sha256(canonical.encode()).hexdigest()}")
        signature = hmac.new(self.signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
        return f"{path}?{canonical_query}&X-Amz-Signature={signature}"
