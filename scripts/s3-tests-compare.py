#!/usr/bin/env python3
"""Helpers of scripts/s3-tests.sh (standard library only).

  s3-tests-compare.py compare JUNIT_XML EXPECTED_FAILURES
      Compares a junit result of the Ceph s3-tests suite with the expected-failures list. The list has one
      test id per line (`s3tests/functional/test_s3.py::test_name`), then `# reason`; blank lines and
      lines starting with `#` are ignored. Exit 1, naming each test, when a test failed (or errored) that
      is not on the list, when a listed test passed (remove it from the list: the list only shrinks), or
      when a listed test did not run at all (renamed or deselected: remove it). Skipped tests count as
      neither. Exit 0 otherwise; prints the figures in both cases.

  s3-tests-compare.py owner-id ENDPOINT ACCESS_KEY SECRET_KEY
      Prints the canonical user id (ListBuckets `Owner.ID`) the server reports for that key, signing the
      request with AWS Signature Version 4 (region us-east-1).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

REGION = "us-east-1"


def test_id(case: ET.Element) -> str:
    """`s3tests.functional.test_s3` + `test_x` -> `s3tests/functional/test_s3.py::test_x`."""
    classname = case.get("classname", "")
    name = case.get("name", "")
    return f"{classname.replace('.', '/')}.py::{name}" if classname else name


def outcomes(junit_path: str) -> dict[str, str]:
    results: dict[str, str] = {}
    for case in ET.parse(junit_path).getroot().iter("testcase"):
        tags = {child.tag for child in case}
        if "error" in tags or "failure" in tags:
            outcome = "failed"
        elif "skipped" in tags:
            outcome = "skipped"
        else:
            outcome = "passed"
        identifier = test_id(case)
        # A test that errors in teardown appears twice: its worst outcome counts.
        if results.get(identifier) != "failed":
            results[identifier] = outcome
    return results


def read_expected(path: str) -> dict[str, str]:
    expected: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            identifier, _, reason = line.partition("#")
            identifier = identifier.strip()
            if not reason.strip():
                raise SystemExit(f"{path}:{number}: {identifier} has no '# reason'")
            if identifier in expected:
                raise SystemExit(f"{path}:{number}: {identifier} is listed twice")
            expected[identifier] = reason.strip()
    return expected


def compare(junit_path: str, expected_path: str) -> int:
    results = outcomes(junit_path)
    expected = read_expected(expected_path)
    counts = {outcome: sum(1 for value in results.values() if value == outcome)
              for outcome in ("passed", "failed", "skipped")}
    print(f"s3-tests: {counts['passed']} passed, {counts['failed']} failed "
          f"({len(expected)} expected), {counts['skipped']} skipped, of {len(results)}")
    problems = []
    for identifier, outcome in sorted(results.items()):
        if outcome == "failed" and identifier not in expected:
            problems.append(f"FAILED (not an expected failure): {identifier}")
        elif outcome == "passed" and identifier in expected:
            problems.append(f"PASSED but listed as an expected failure, remove it from the list: {identifier}")
    for identifier in sorted(expected):
        if identifier not in results:
            problems.append(f"DID NOT RUN but listed as an expected failure, remove it from the list: {identifier}")
    for problem in problems:
        print(problem)
    if problems:
        print(f"s3-tests: {len(problems)} difference(s) from {expected_path}")
        return 1
    return 0


def owner_id(endpoint: str, access_key: str, secret_key: str) -> str:
    url = urllib.parse.urlsplit(endpoint)
    host = url.netloc
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    payload_hash = hashlib.sha256(b"").hexdigest()
    headers = {"host": host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
    signed_headers = ";".join(sorted(headers))
    canonical = "\n".join(["GET", "/", "", *(f"{name}:{headers[name]}" for name in sorted(headers)), "",
                           signed_headers, payload_hash])
    scope = f"{day}/{REGION}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (day, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"{url.scheme}://{host}/", headers={
        "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date,
        "Authorization": f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                         f"SignedHeaders={signed_headers}, Signature={signature}",
    })
    with urllib.request.urlopen(request, timeout=30) as response:
        root = ET.fromstring(response.read())
    namespace = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}
    found = root.find("s3:Owner/s3:ID", namespace)
    if found is None or not found.text:
        raise SystemExit("ListBuckets answered without Owner.ID")
    return found.text


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[1] == "compare":
        return compare(argv[2], argv[3])
    if len(argv) == 5 and argv[1] == "owner-id":
        print(owner_id(argv[2], argv[3], argv[4]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
