"""Schemathesis hooks of the fuzz run (loaded through SCHEMATHESIS_HOOKS=scripts/fuzz/hooks.py).

Three request parameters make a schema-valid request fail on purpose, for reasons
no schema can carry; these hooks keep them valid but neutral as they are generated,
so that `positive_data_acceptance` stays strict for the rest of the request:

- `?verify=true` asks the provider's own API to check the credentials; in the fuzz
  run no provider is reachable, so it is always a 400 (`unreachable`). It becomes
  `verify=false`. The end-to-end tests cover verification.
- `If-Match` with a generated value is never the current `ETag` (412 by design). It
  is dropped. The end-to-end tests cover preconditions.
- `Idempotency-Key` values repeat across generated requests with different bodies
  (422 by design). A valid key gets a unique suffix. The end-to-end tests cover
  replays and reuse.

One body rule is written in the schema's description rather than in the schema:
`meta_json` holds no control character in any key or string at any depth (JSON
Schema could only say so recursively, which client generators cannot read). Control
characters inside a `meta_json` object are removed as bodies are generated; the
end-to-end tests cover the 400.

Only valid values are changed, so a negative case stays negative.
"""

import re
import uuid

import schemathesis

KEY = re.compile(r"[!-~](?:[ -~]{0,253}[!-~])?")
CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f]")


def _without_control(value):
    if isinstance(value, str):
        return CONTROL.sub("", value)
    if isinstance(value, list):
        return [_without_control(item) for item in value]
    if isinstance(value, dict):
        return {_without_control(key): _without_control(item) for key, item in value.items()}
    return value


def _neutralize_body(body):
    # Top-level keys keep their own schema rule (`propertyNames`); below them, and in
    # every value, control characters go.
    if isinstance(body, dict) and isinstance(body.get("meta_json"), dict):
        body["meta_json"] = {
            key: _without_control(value) for key, value in body["meta_json"].items()
        }


def _neutralize_query(query):
    if query is not None and hasattr(query, "get") and query.get("verify") == "true":
        query["verify"] = "false"


def _neutralize_headers(headers):
    if headers is None or not hasattr(headers, "keys"):
        return
    for name in list(headers):
        lowered = name.lower()
        value = headers[name]
        if lowered == "if-match":
            del headers[name]
        elif lowered == "idempotency-key" and isinstance(value, str) and KEY.fullmatch(value):
            headers[name] = value[:200] + "-" + uuid.uuid4().hex


@schemathesis.hook
def map_query(context, query):
    _neutralize_query(query)
    return query


@schemathesis.hook
def map_headers(context, headers):
    _neutralize_headers(headers)
    return headers


@schemathesis.hook
def map_body(context, body):
    _neutralize_body(body)
    return body


@schemathesis.hook
def before_call(context, case, kwargs):
    # The coverage phase builds its cases without the map hooks. Its cases that leave
    # out a header are left alone: an edited case is revalidated, and the left-out
    # header (a credential given with --header) would be sent again.
    data = getattr(getattr(getattr(case, "meta", None), "phase", None), "data", None)
    scenario = getattr(data, "scenario", None)
    if scenario is not None and "MISSING" in str(scenario).upper():
        return
    _neutralize_query(case.query)
    _neutralize_headers(case.headers)
    _neutralize_body(case.body)
