"""The configuration lifecycle through the Python client that openapi-python-client
generated from the served document (scripts/clients/run.sh puts it on PYTHONPATH):
create, list, get, patch (rotate the token and rename), delete, then a 404.

    python python_lifecycle.py BASE_URL TOKEN ORG_HANDLE

Everything goes through the generated functions and models; exits non-zero (with
the step that failed) otherwise.
"""

import sys
import uuid

import switchboard_client.models as models
from switchboard_client import AuthenticatedClient
from switchboard_client.api.provider_configurations import (
    create_provider_configuration,
    delete_provider_configuration,
    get_provider_configuration,
    list_provider_configurations,
    update_provider_configuration,
)
from switchboard_client.models import Error

SID = "AC" + uuid.uuid4().hex
TOKEN = uuid.uuid4().hex
NEW_TOKEN = uuid.uuid4().hex


def check(condition, message):
    if not condition:
        raise SystemExit(f"python client: {message}")


def create_model(provider):
    """The generated model of the create body's branch for `provider` (named after
    the branch's title)."""
    for name in dir(models):
        lowered = name.lower()
        if (
            lowered.startswith("createproviderconfiguration")
            and lowered.endswith(provider)
        ):
            return getattr(models, name)
    raise SystemExit(f"python client: no create model for {provider}")


def main(base_url, token, org):
    client = AuthenticatedClient(
        base_url=base_url,
        token=token,
        prefix="Token",
        headers={"Org-Handle": org},
        raise_on_unexpected_status=True,
    )
    with client:
        body = create_model("twilio").from_dict(
            {
                "provider": "twilio",
                "name": "Python client",
                "account_sid": SID,
                "auth_token": TOKEN,
                "meta_json": {"client": "python", "nested": {"list": [1, "two", None]}},
            }
        )
        created = create_provider_configuration.sync_detailed(client=client, body=body)
        check(created.status_code == 201, f"create answered {created.status_code}: {created.content!r}")
        config = created.parsed.data
        check(config.account_sid == SID, "create: account_sid")
        check(config.auth_token_last4 == TOKEN[-4:], "create: auth_token_last4")
        check(TOKEN not in created.content.decode(), "create: the secret is never answered")
        check(config.meta_json.to_dict()["nested"]["list"] == [1, "two", None], "create: meta_json")
        config_id = config.id

        listed = list_provider_configurations.sync(client=client, provider="twilio", page_size=100)
        check(any(item.id == config_id for item in listed.data), "list: the new configuration")
        check(listed.count >= 1, "list: count")

        got = get_provider_configuration.sync_detailed(config_id, client=client)
        check(got.status_code == 200 and got.parsed.data.name == "Python client", "get")
        etag = got.headers.get("etag")
        check(etag is not None, "get: ETag")

        patch = models.UpdateProviderConfigurationBody.from_dict(
            {"auth_token": NEW_TOKEN, "name": "Python client, rotated"}
        )
        updated = update_provider_configuration.sync_detailed(
            config_id, client=client, body=patch, if_match=etag
        )
        check(updated.status_code == 200, f"patch answered {updated.status_code}: {updated.content!r}")
        check(updated.parsed.data.auth_token_last4 == NEW_TOKEN[-4:], "patch: rotated")
        check(updated.parsed.data.name == "Python client, rotated", "patch: renamed")

        stale = update_provider_configuration.sync_detailed(
            config_id, client=client, body=patch, if_match=etag
        )
        check(stale.status_code == 412 and isinstance(stale.parsed, Error), "patch with a stale ETag: 412")
        check(stale.parsed.code == "precondition_failed", "412: code")

        deleted = delete_provider_configuration.sync_detailed(config_id, client=client)
        check(deleted.status_code == 204, f"delete answered {deleted.status_code}")
        gone = get_provider_configuration.sync_detailed(config_id, client=client)
        check(gone.status_code == 404 and gone.parsed.code == "not_found", "get after delete: 404")
    print("python client: create, list, get, patch (rotate, If-Match, 412), delete, 404: ok")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit("usage: python_lifecycle.py BASE_URL TOKEN ORG_HANDLE")
    main(*sys.argv[1:])
