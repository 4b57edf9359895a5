#!/usr/bin/env bash
# Checks Switchboard's uses of secrets against the providers' own libraries:
# Twilio's RequestValidator (webhook signatures), LiveKit's TokenVerifier and
# PyJWT (access tokens). Installs them into a venv under target/ (as
# scripts/fuzz/schemathesis.sh does), regenerates the signature fixture with
# Twilio's library (git diff shows any change), and runs the ignored end-to-end
# tests that verify minted tokens with the Python verifiers.
#
#   scripts/reference/check.sh            # both backends when SWITCHBOARD_TEST_POSTGRES_URL is set
set -euo pipefail
cd "$(dirname "$0")/../.."

TWILIO_VERSION=${TWILIO_VERSION:-9.13.0}
LIVEKIT_API_VERSION=${LIVEKIT_API_VERSION:-1.2.2}
PYJWT_VERSION=${PYJWT_VERSION:-2.15.1}
venv=target/reference-venv
log() { printf 'reference: %s\n' "$*" >&2; }

if ! "$venv/bin/python" -c 'import twilio, livekit.api, jwt' 2>/dev/null; then
    log "twilio, livekit-api and PyJWT into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "twilio==$TWILIO_VERSION" "livekit-api==$LIVEKIT_API_VERSION" "PyJWT==$PYJWT_VERSION"
fi

fixture=tests/fixtures/twilio_signatures.json
"$venv/bin/python" scripts/reference/providers.py sign "$fixture"
if ! git diff --quiet -- "$fixture"; then
    log "Twilio's library computes other signatures than $fixture held:"
    git --no-pager diff -- "$fixture"
    exit 1
fi

export SWITCHBOARD_REFERENCE_PYTHON="$PWD/$venv/bin/python"
cargo test -p switchboard-crypto --test reference -- --ignored
cargo test -p switchboard-e2e --test api -- --ignored access_tokens::reference
