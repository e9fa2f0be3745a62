"""Self-checks of the suite's own SigV4 signer (s3util), which the auth and payload-mode tests rely on.

Goal: a hand-signed request that the server rejects must be rejected for the reason the test intends,
not because our signer is wrong. Method: compare with botocore's signer on the same request, and with
the chunked-upload example the AWS docs publish (sigv4-streaming, 'Example: PUT Object').
"""

import datetime
import hashlib

import botocore.auth

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from s3util import EMPTY_SHA256, Signed, chunk_string_to_sign, hmac_hex, sign_headers, signing_key


def test_header_signature_matches_botocore(monkeypatch):
    # Goal: our canonical request/string-to-sign equals botocore's. Method: sign the same PUT with both
    # at a fixed date and compare the Authorization header.
    body = b"hello world"
    url = "http://127.0.0.1:9000/bkt/dir/a%20b%2B%C3%BC.txt?uploads=&x-id=1"
    req = AWSRequest(method="PUT", url=url, data=body,
                     headers={"Content-Type": "text/plain", "X-Amz-Meta-Foo": "  bar   baz "})
    monkeypatch.setattr(botocore.auth, "get_current_datetime",
                        lambda: datetime.datetime(2024, 1, 2, 3, 4, 5))
    creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    auth = S3SigV4Auth(creds, "s3", "us-east-1")
    auth.add_auth(req)
    theirs = req.headers["Authorization"]
    ph = hashlib.sha256(body).hexdigest()
    ours = sign_headers(
        "PUT", "/bkt/dir/a%20b%2B%C3%BC.txt", [("uploads", ""), ("x-id", "1")],
        {"Host": "127.0.0.1:9000", "Content-Type": "text/plain", "X-Amz-Meta-Foo": "  bar   baz "},
        ph, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", amz_date="20240102T030405Z",
    ).headers["Authorization"]
    assert ours == theirs


def test_chunk_signatures_match_aws_example():
    # Goal: per-chunk signatures follow the AWS documentation. Method: recompute the published example
    # (66560 bytes of 'a', 64 KiB chunks, seed signature given) and compare each chunk signature.
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    amz_date = "20130524T000000Z"
    scope = "20130524/us-east-1/s3/aws4_request"
    key = signing_key(secret, "20130524")
    seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    data = b"a" * 66560
    chunks = [data[:65536], data[65536:], b""]
    expected = [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ]
    previous = seed
    got = []
    for c in chunks:
        previous = hmac_hex(key, chunk_string_to_sign(amz_date, scope, previous, c))
        got.append(previous)
    assert got == expected
    assert Signed(headers={}, signature=seed, amz_date=amz_date, scope=scope, key=key).signature == seed
    assert EMPTY_SHA256.startswith("e3b0c442")
