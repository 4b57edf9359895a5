// The configuration lifecycle through openapi-fetch, typed by the `paths` that
// openapi-typescript generated from the served document (scripts/clients/run.sh
// writes schema.d.ts beside this file, type-checks it with tsc --strict and runs it):
// create, list, get, patch (rotate, If-Match, a stale one is 412), delete, then 404.
//
//   node lifecycle.js BASE_URL TOKEN ORG_HANDLE
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type ProviderConfig = components["schemas"]["ProviderConfig"];

const [baseUrl, token, org] = process.argv.slice(2);
if (!baseUrl || !token || !org) {
    throw new Error("usage: node lifecycle.js BASE_URL TOKEN ORG_HANDLE");
}

function check(condition: boolean, message: string): asserts condition {
    if (!condition) {
        throw new Error(`typescript client: ${message}`);
    }
}

const hex = (length: number): string =>
    Array.from({ length }, () => Math.floor(Math.random() * 16).toString(16)).join("");

const client = createClient<paths>({
    baseUrl,
    headers: { Authorization: `Token ${token}`, "Org-Handle": org },
});
const collection = "/api/v2/platform/telephony/providers-configurations";
const one = "/api/v2/platform/telephony/providers-configurations/{id}";

async function main(): Promise<void> {
    const sid = `AC${hex(32)}`;
    const secret = hex(32);
    const created = await client.POST(collection, {
        body: {
            provider: "twilio",
            name: "TypeScript client",
            account_sid: sid,
            auth_token: secret,
            meta_json: { client: "typescript", nested: { list: [1, "two", null] } },
        },
    });
    check(created.response.status === 201 && created.data !== undefined, `create: ${created.response.status}`);
    const config: ProviderConfig = created.data.data;
    check(config.account_sid === sid, "create: account_sid");
    check(config.auth_token_last4 === secret.slice(-4), "create: auth_token_last4");
    // meta_json is an open object: its fields are readable without a cast.
    const nested = config.meta_json["nested"] as { list: unknown[] };
    check(JSON.stringify(nested.list) === JSON.stringify([1, "two", null]), "create: meta_json");
    const id = config.id;

    const listed = await client.GET(collection, { params: { query: { provider: "twilio", page_size: 100 } } });
    check(listed.data !== undefined && listed.data.data.some((item) => item.id === id), "list: the new configuration");

    const got = await client.GET(one, { params: { path: { id } } });
    check(got.data !== undefined && got.data.data.name === "TypeScript client", "get");
    const etag = got.response.headers.get("etag");
    check(etag !== null, "get: ETag");

    const newSecret = hex(32);
    const patch = { auth_token: newSecret, name: "TypeScript client, rotated" };
    const updated = await client.PATCH(one, {
        params: { path: { id }, header: { "If-Match": etag } },
        body: patch,
    });
    check(updated.data !== undefined, `patch: ${updated.response.status}`);
    check(updated.data.data.auth_token_last4 === newSecret.slice(-4), "patch: rotated");

    const stale = await client.PATCH(one, {
        params: { path: { id }, header: { "If-Match": etag } },
        body: patch,
    });
    check(stale.response.status === 412 && stale.error?.code === "precondition_failed", "stale If-Match: 412");

    const deleted = await client.DELETE(one, { params: { path: { id } } });
    check(deleted.response.status === 204, `delete: ${deleted.response.status}`);
    const gone = await client.GET(one, { params: { path: { id } } });
    check(gone.response.status === 404 && gone.error?.code === "not_found", "get after delete: 404");
    console.log("typescript client: create, list, get, patch (rotate, If-Match, 412), delete, 404: ok");
}

main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
});
