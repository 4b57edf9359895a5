"""Checks Switchboard's secret uses against the providers' own libraries.

Run by scripts/reference/check.sh inside a venv holding `twilio`, `livekit-api`
and `PyJWT`. Two commands:

  sign <fixture.json>
      Computes X-Twilio-Signature values with twilio's RequestValidator for the
      cases of the fixture file (url, params, auth token) and writes them back as
      `signature` (the Rust tests check the service against these values).

  verify-livekit <api_key> <api_secret> <token> <identity> <room>
      Verifies a LiveKit access token with livekit-api's TokenVerifier and prints
      its claims as JSON; exits non-zero when the token is refused.

  verify-twilio <api_key_secret> <token>
      Decodes a Twilio Access Token with PyJWT (HS256), checks its header's
      `cty: twilio-fpa;v=1`, and prints header and claims as JSON.
"""

import json
import sys


def sign(path):
    from twilio.request_validator import RequestValidator

    with open(path) as handle:
        fixture = json.load(handle)
    for case in fixture["cases"]:
        validator = RequestValidator(case["auth_token"])
        case["signature"] = validator.compute_signature(case["url"], case["params"])
        assert validator.validate(case["url"], case["params"], case["signature"])
    fixture["generated_by"] = "twilio.request_validator.RequestValidator (scripts/reference/check.sh)"
    with open(path, "w") as handle:
        json.dump(fixture, handle, indent=2, sort_keys=True)
        handle.write("\n")


def verify_livekit(api_key, api_secret, token, identity, room):
    from livekit.api import TokenVerifier

    claims = TokenVerifier(api_key, api_secret).verify(token)
    assert claims.identity == identity, claims.identity
    assert claims.video.room == room, claims.video.room
    assert claims.video.room_join is True
    print(json.dumps({
        "identity": claims.identity,
        "name": claims.name,
        "room": claims.video.room,
        "room_join": claims.video.room_join,
        "can_publish": claims.video.can_publish,
        "can_subscribe": claims.video.can_subscribe,
        "can_publish_data": claims.video.can_publish_data,
    }))


def verify_twilio(api_key_secret, token):
    import jwt

    header = jwt.get_unverified_header(token)
    assert header["cty"] == "twilio-fpa;v=1", header
    claims = jwt.decode(token, api_key_secret, algorithms=["HS256"])
    print(json.dumps({"header": header, "claims": claims}))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"sign": sign, "verify-livekit": verify_livekit, "verify-twilio": verify_twilio}[command](*args)
