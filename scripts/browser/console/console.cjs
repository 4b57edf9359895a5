// Browser tests of the web console: sign in with the one-time link of the first
// start, create a Twilio and a SIP configuration through the forms (a bad value is
// held by the browser and, with the browser's check bypassed, by the server, its
// message next to the field), verify against the local provider stand-in, connect a
// number and see what blocks a delete, create and revoke a token, a service account
// with a scoped token (shown once) revoked, a webhook endpoint pointing at a local
// receiver (secret shown once, test event delivered and signed, listed, retried), a
// staged rotation (a new secret pending, verified, promoted with an overlap, the
// overlap ended), numbers imported from the Twilio account, a viewer sees no write control and a forged POST is refused, sign-out ends the session; every page
// passes axe-core's rules with no serious or critical violation; no request leaves
// 127.0.0.1; screenshots go to docs/console/.
//
// Run through scripts/browser/console.sh (it builds the binaries and sets
// SWITCHBOARD_BIN, SWITCHBOARD_ADMIN_BIN, SWITCHBOARD_STAND_IN_BIN, SWITCHBOARD_AXE).
"use strict";

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const crypto = require("node:crypto");
const http = require("node:http");
const { spawn, spawnSync } = require("node:child_process");
const { withBrowser, check, isLocal } = require(process.env.SWITCHBOARD_BROWSER_LIB);

const SID = "AC" + "0123456789abcdef".repeat(2);
const TOKEN = "f".repeat(28) + "9f3c";
// The secret a staged rotation brings in (the stand-in accepts both).
const NEW_TOKEN = "e".repeat(28) + "7b2d";
const SHOTS = path.join("docs", "console");
const results = { passed: 0, failed: 0 };

function start(bin, args, env, pattern) {
    return new Promise((resolve, reject) => {
        const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        const timer = setTimeout(() => reject(new Error(`${bin} did not start: ${out}`)), 60000);
        child.stdout.on("data", (chunk) => {
            out += chunk;
            const match = out.match(pattern);
            if (match) {
                clearTimeout(timer);
                resolve({ child, match, out });
            }
        });
        child.stderr.on("data", () => {});
        child.on("exit", (code) => reject(new Error(`${bin} exited ${code}: ${out}`)));
    });
}

async function step(name, fn) {
    try {
        await fn();
        results.passed += 1;
        console.log(`ok - ${name}`);
    } catch (error) {
        results.failed += 1;
        if (global.currentPage) {
            try {
                await global.currentPage.screenshot({ path: "target/browser/console/failure.png", fullPage: true });
                console.log(`  page at failure: ${global.currentPage.url()}\n  ${(await global.currentPage.textContent("main")).replace(/\s+/g, " ").slice(0, 600)}`);
            } catch {
                // the page may be gone
            }
        }
        console.log(`not ok - ${name}\n  ${String(error.stack || error).split("\n").join("\n  ")}`);
        throw error;
    }
}

async function guardedContext(browser, seen, options) {
    const context = await browser.newContext({ serviceWorkers: "block", ...options });
    await context.route("**/*", (route) => {
        const target = route.request().url();
        if (isLocal(target)) {
            return route.continue();
        }
        seen.blocked.push(target);
        return route.abort("blockedbyclient");
    });
    return context;
}

function watch(page, seen) {
    page.on("console", (message) => {
        if (message.type() === "error") {
            seen.consoleErrors.push(`${page.url()}: ${message.text()}`);
        }
    });
    page.on("pageerror", (error) => seen.pageErrors.push(String(error)));
    page.on("response", async (response) => {
        // The sentinel secret never travels back in any answer.
        try {
            const body = await response.text();
            if (body.includes(TOKEN) || body.includes(NEW_TOKEN)) {
                seen.leaks.push(response.url());
            }
        } catch {
            // bodies of redirects are not kept
        }
    });
}

/// Runs axe-core on `url` in a context of its own (axe needs an injected script,
/// which the console's CSP forbids: this context bypasses CSP, the others never do).
async function axe(a11y, url) {
    const page = await a11y.newPage();
    await page.goto(url, { waitUntil: "networkidle" });
    await page.addScriptTag({ path: process.env.SWITCHBOARD_AXE });
    const violations = await page.evaluate(async () => {
        const result = await window.axe.run(document, { resultTypes: ["violations"] });
        return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
    });
    await page.close();
    const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    check(bad.length === 0, `axe on ${url}: ${JSON.stringify(bad)}`);
    return violations;
}

/// A webhook receiver on a free port of 127.0.0.1: keeps every request, answers 200.
function receiver() {
    const received = [];
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (chunk) => { body += chunk; });
        req.on("end", () => {
            received.push({ headers: req.headers, body });
            res.writeHead(200).end();
        });
    });
    return new Promise((resolve) => {
        server.listen(0, "127.0.0.1", () => {
            resolve({ url: `http://127.0.0.1:${server.address().port}/hook`, received, close: () => server.close() });
        });
    });
}

/// Waits until `count` requests arrived at `hook` (30 s at most).
async function arrived(hook, count) {
    for (let i = 0; i < 300 && hook.received.length < count; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    check(hook.received.length >= count, `${hook.received.length} of ${count} deliveries arrived`);
    return hook.received;
}

/// Whether a delivery carries a Standard Webhooks signature under `secret`.
function signedWith(delivery, secret) {
    const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
    const content = `${delivery.headers["webhook-id"]}.${delivery.headers["webhook-timestamp"]}.${delivery.body}`;
    const expected = crypto.createHmac("sha256", key).update(content).digest("base64");
    return String(delivery.headers["webhook-signature"] || "").split(" ").includes(`v1,${expected}`);
}

async function main() {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-console-"));
    fs.mkdirSync(SHOTS, { recursive: true });
    const standIn = await start(process.env.SWITCHBOARD_STAND_IN_BIN,
        ["--port", "0", "--accept", `twilio:${SID}:${TOKEN}`, "--accept", `twilio:${SID}:${NEW_TOKEN}`,
            "--numbers", `${SID}:+14155550111,+14155550112`], {}, /listening on (http:\/\/\S+)/);
    const env = {
        SWITCHBOARD__DATA_DIR: work,
        SWITCHBOARD__SERVER__PORT: "0",
        SWITCHBOARD__VERIFY__TWILIO_BASE_URL: standIn.match[1],
        SWITCHBOARD__LOG__LEVEL: "warn",
        // The webhook receiver of the test listens on loopback.
        SWITCHBOARD__WEBHOOKS__ALLOW_PRIVATE_TARGETS: "true",
    };
    const hook = await receiver();
    delete process.env.SWITCHBOARD_PROFILE;
    delete process.env.SWITCHBOARD__DATABASE__URL;
    const server = await start(process.env.SWITCHBOARD_BIN, [], env,
        /console sign-in link \(one use\): (http:\/\/\S+)[\s\S]*listening on (http:\/\/\S+)/);
    const link = server.match[1];
    const base = server.match[2];
    // A viewer, made with the admin tool as an operator would.
    const admin = (args, input) => {
        const run = spawnSync(process.env.SWITCHBOARD_ADMIN_BIN, args, { env: { ...process.env, ...env }, input, encoding: "utf8" });
        check(run.status === 0, `switchboard-admin ${args.join(" ")}: ${run.stderr}`);
    };
    admin(["user", "create", "--email", "viewer@example.com", "--password-stdin"], "viewer password 1\n");
    admin(["member", "add", "--org", "default", "--email", "viewer@example.com", "--role", "viewer"]);

    const seen = { blocked: [], consoleErrors: [], pageErrors: [], leaks: [] };
    try {
        await withBrowser(async (browser) => {
            const context = await guardedContext(browser, seen, { viewport: { width: 1280, height: 900 } });
            const page = await context.newPage();
            global.currentPage = page;
            watch(page, seen);
            const a11yWith = async (url) => {
                const a11y = await guardedContext(browser, seen, {
                    bypassCSP: true, storageState: await context.storageState(),
                });
                try {
                    await axe(a11y, url);
                } finally {
                    await a11y.close();
                }
            };
            const org = `${base}/console/o/default`;

            await step("the sign-in page passes axe and loads nothing from outside", async () => {
                await a11yWith(`${base}/console/login`);
                await page.goto(`${base}/console/login`);
                await page.screenshot({ path: path.join(SHOTS, "sign-in.png") });
            });

            await step("the first start's sign-in link signs the owner in, once; the owner sets a password", async () => {
                await page.goto(link);
                check(page.url() === `${base}/console/account?done=link`, `landed on ${page.url()}`);
                const other = await context.newPage();
                const again = await other.goto(link);
                check(again.status() === 403, "a second use is refused");
                await other.close();
                await a11yWith(`${base}/console/account`);
                await page.fill("#f-new", "owner password 1");
                await page.fill("#f-confirm", "owner password 1");
                await page.click("text=Save password");
                await page.waitForSelector("text=Your password is set.");
                await page.click("text=Continue to the console");
                check(page.url() === `${org}/configurations`, `then ${page.url()}`);
            });

            await step("keyboard: the skip link comes first", async () => {
                await page.keyboard.press("Tab");
                const focused = await page.evaluate(() => document.activeElement && document.activeElement.className);
                check(focused === "skip", `first tab stop is ${focused}`);
            });

            await step("a Twilio configuration through the catalog form, errors next to the fields", async () => {
                await page.goto(`${org}/configurations/new`);
                await page.selectOption("#choose-provider", "twilio");
                await page.click("text=Choose");
                await page.fill("#f-name", "Twilio main");
                await page.fill("#f-account_sid", "AC-not-a-sid");
                await page.fill("#f-auth_token", TOKEN);
                check(await page.$eval("#f-auth_token", (e) => e.type) === "password", "the secret input is write-only");
                // The browser holds the form (the catalog's pattern).
                check(await page.$eval("#f-account_sid", (e) => !e.checkValidity()), "the browser flags the SID");
                // With the browser's check bypassed, the server refuses and says where.
                await page.$eval("#config-form", (form) => { form.noValidate = true; });
                await page.click("text=Create configuration");
                await page.waitForSelector("#e-account_sid");
                check(await page.$eval("#f-auth_token", (e) => e.value) === "", "the secret is not filled back in");
                await a11yWith(`${org}/configurations/new?provider=twilio`);
                await page.screenshot({ path: path.join(SHOTS, "configuration-errors.png"), fullPage: true });
                await page.fill("#f-account_sid", SID);
                await page.fill("#f-auth_token", TOKEN);
                await page.click("text=Create configuration");
                await page.waitForSelector("#verify-heading");
                check((await page.textContent("main")).includes("9f3c"), "the last four are shown");
            });

            await step("verify against the stand-in: the verdict shows in place", async () => {
                await page.click("text=Verify with the provider");
                await page.waitForSelector("#verification .badge-valid");
                check((await page.textContent("#verification")).includes("accepted"), "verdict shown");
                await a11yWith(page.url());
                await page.screenshot({ path: path.join(SHOTS, "configuration.png"), fullPage: true });
            });

            await step("a SIP configuration", async () => {
                await page.goto(`${org}/configurations/new?provider=sip`);
                // Every input comes from the catalog's fields: integer, enum, secret.
                check(await page.$eval("#f-port", (e) => e.type) === "number", "the port is a number input");
                check(await page.$eval("#f-transport", (e) => e.tagName) === "SELECT", "the transport is a select");
                check(await page.$eval("#f-password", (e) => e.type) === "password", "the password is write-only");
                await page.fill("#f-host", "sip.example.com");
                await page.fill("#f-port", "5061");
                await page.selectOption("#f-transport", "tls");
                await page.fill("#f-username", "trunk-user");
                await page.fill("#f-password", "a sip password 1");
                await page.fill("#f-sip_url", "sip:trunk@example.com");
                await a11yWith(page.url());
                await page.screenshot({ path: path.join(SHOTS, "configuration-sip.png"), fullPage: true });
                await page.click("text=Create configuration");
                await page.waitForSelector("#verify-heading");
                const text = await page.textContent("main");
                check(text.includes("sip.example.com") && text.includes("5061") && text.includes("tls"), "public fields shown");
                check(text.includes("••••rd 1") && !text.includes("a sip password 1"), "the password's last four only");
            });

            await step("the list shows both, with badges, and passes axe", async () => {
                await page.goto(`${org}/configurations`);
                const text = await page.textContent("main");
                check(text.includes("Twilio main") && text.includes("SIP trunk"), "both listed");
                check(text.includes("valid"), "verification badge");
                await a11yWith(page.url());
                await page.screenshot({ path: path.join(SHOTS, "configurations.png"), fullPage: true });
            });

            await step("staged rotation: a new secret pending, verified, promoted with an overlap, the overlap ended", async () => {
                await page.goto(`${org}/configurations`);
                await page.click("text=Twilio main");
                const url = page.url();
                check(await page.$eval("#r-auth_token", (e) => e.type) === "password", "the new secret's input is write-only");
                await page.fill("#r-auth_token", NEW_TOKEN);
                await page.click("text=Start a rotation");
                await page.waitForSelector("#pending-rotation");
                check((await page.textContent("#pending-rotation")).includes("7b2d"), "the new secret's last four");
                await page.click("text=Verify the pending secret");
                await page.waitForSelector("#pending-rotation .badge-valid");
                await page.fill("#r-keep", "3600");
                await page.check("#r-require");
                await page.click("text=Promote the pending secret");
                await page.waitForSelector("#overlap");
                check((await page.textContent("main")).includes("••••7b2d"), "the new secret is current");
                await a11yWith(url);
                await page.screenshot({ path: path.join(SHOTS, "rotation.png"), fullPage: true });
                await page.click("text=End the overlap now");
                await page.waitForSelector("text=The overlap has ended");
                check(!(await page.$("#overlap")), "no overlap left");
            });

            let configUrl;
            await step("a number on a bridge, connected to the Twilio configuration", async () => {
                await page.goto(`${org}/numbers`);
                await page.fill("#f-number", "+14155550100");
                await page.click("text=Add number");
                await page.waitForSelector("text=Added.");
                await a11yWith(page.url());
                await page.goto(`${org}/bridges`);
                await page.fill("#f-bname", "Main line");
                await page.click("text=Create bridge");
                await page.waitForSelector("#add-number");
                await page.click("text=Add to bridge");
                await page.waitForSelector("#connect-form");
                await page.selectOption("#f-cconfig", { label: "Twilio main" });
                await page.click("#connect-form button");
                await page.waitForSelector("text=Disconnect");
                await a11yWith(page.url());
                await page.screenshot({ path: path.join(SHOTS, "bridge.png"), fullPage: true });
            });

            await step("numbers imported from the Twilio configuration's account", async () => {
                await page.goto(`${org}/numbers`);
                await page.selectOption("#f-import-config", { label: "Twilio main" });
                await page.click("#import-form button[type=submit]");
                await page.waitForSelector("#import-result");
                const result = await page.textContent("#import-result");
                check(result.includes("Imported 2 new numbers"), result);
                const text = await page.textContent("main");
                check(text.includes("+14155550111") && text.includes("+14155550112"), "imported numbers listed");
                await a11yWith(`${org}/numbers`);
                await page.screenshot({ path: path.join(SHOTS, "numbers.png"), fullPage: true });
            });

            await step("deleting a connected configuration shows what blocks it", async () => {
                await page.goto(`${org}/configurations`);
                await page.click("text=Twilio main");
                configUrl = page.url();
                await page.check("#confirm-delete");
                await page.click("button.danger");
                await page.waitForSelector("#blockers");
                const blockers = await page.textContent("#blockers");
                check(blockers.includes("main-line") && blockers.includes("+14155550100"), blockers);
                await page.screenshot({ path: path.join(SHOTS, "delete-blocked.png"), fullPage: true });
            });

            await step("an API token is shown once and revoked", async () => {
                await page.goto(`${org}/tokens`);
                await page.fill("#f-name", "ci deploy");
                await page.click("text=Create token");
                const token = await page.inputValue("#new-token");
                check(token.startsWith("sbt_"), "token shown");
                const api = await page.request.get(`${base}/api/v2/platform/organizations/`, { headers: { Authorization: `Token ${token}` } });
                check(api.status() === 200, "the token works");
                await page.goto(`${org}/tokens`);
                check(!(await page.content()).includes(token), "not shown again");
                await page.click("button[aria-label^='Revoke ci deploy']");
                await page.waitForSelector("text=Revoked.");
                const after = await page.request.get(`${base}/api/v2/platform/organizations/`, { headers: { Authorization: `Token ${token}` } });
                check(after.status() === 401, "revoked at once");
                await a11yWith(page.url());
                await page.screenshot({ path: path.join(SHOTS, "tokens.png"), fullPage: true });
            });

            let accountUrl;
            await step("a service account with a scoped token: shown once, gone on reload, revoked", async () => {
                await page.goto(`${org}/service-accounts`);
                await a11yWith(page.url());
                await page.fill("#f-name", "call runtime");
                await page.selectOption("#f-role", "member");
                await page.click("text=Create service account");
                await page.waitForSelector("text=Created.");
                accountUrl = page.url().replace(/\?.*$/, "");
                // A member account is offered the scopes a member may use, no more.
                check(await page.$("input[value='webhooks:manage']") === null, "no scope beyond the role");
                await page.fill("#f-name", "runtime");
                await page.check("input[name=scopes][value='bridges:read']");
                await page.check("input[name=scopes][value='credentials:use']");
                await page.fill("#f-expires", "30");
                await page.click("#sa-token-form button[type=submit]");
                const token = await page.inputValue("#new-token");
                check(token.startsWith("sbt_"), "token shown");
                const headers = { Authorization: `Token ${token}`, "Org-Handle": "default" };
                const numbers = await page.request.get(`${base}/api/v2/platform/telephony/numbers/`, { headers });
                check(numbers.status() === 200, `the token reads numbers: ${numbers.status()}`);
                const configs = await page.request.get(`${base}/api/v2/platform/telephony/providers-configurations/`, { headers });
                check(configs.status() === 403, `and nothing outside its scopes: ${configs.status()}`);
                // Reload: the address of the answer leads to the account's page, without the token.
                await page.goto(page.url());
                check(page.url() === accountUrl, `reloaded to ${page.url()}`);
                check(!(await page.content()).includes(token), "not shown again");
                check((await page.textContent("main")).includes("credentials:use"), "scopes listed");
                await a11yWith(accountUrl);
                await page.screenshot({ path: path.join(SHOTS, "service-account.png"), fullPage: true });
                await page.click("button[aria-label^='Revoke runtime']");
                await page.waitForSelector("text=Revoked.");
                const after = await page.request.get(`${base}/api/v2/platform/telephony/numbers/`, { headers });
                check(after.status() === 401, "revoked at once");
            });

            let endpointUrl;
            await step("a webhook endpoint to a local receiver: secret once, test event delivered, listed, retried", async () => {
                await page.goto(`${org}/webhooks`);
                await a11yWith(page.url());
                await page.fill("#f-url", "ftp://hooks.example.com/x");
                await page.$eval("#webhook-form", (form) => { form.noValidate = true; });
                await page.click("text=Create endpoint");
                await page.waitForSelector("#e-url");
                check((await page.textContent("#e-url")).includes("https://"), "the service's message next to the URL");
                await page.fill("#f-url", hook.url);
                await page.fill("#f-description", "ops alerts");
                await page.check("input[name=event_types][value='number.created']");
                await page.click("text=Create endpoint");
                const secret = await page.inputValue("#new-secret");
                check(secret.startsWith("whsec_"), "secret shown");
                endpointUrl = `${base}${await page.getAttribute("#webhook-form", "action")}`;
                await page.goto(endpointUrl);
                check(!(await page.content()).includes(secret), "the secret is not shown again");
                await page.click("text=Send test event");
                await page.waitForSelector("text=Test event sent");
                const first = (await arrived(hook, 1))[0];
                check(signedWith(first, secret), "signed with the secret shown once");
                check(JSON.parse(first.body).type === "webhook.test", "a test event");
                for (let i = 0; i < 100 && !(await page.$(".badge-succeeded")); i += 1) {
                    await new Promise((resolve) => setTimeout(resolve, 200));
                    await page.goto(endpointUrl);
                }
                check(await page.$(".badge-succeeded"), "the delivery is listed as succeeded");
                check((await page.textContent("main")).includes(first.headers["webhook-id"]), "with its event id");
                await page.click("button[aria-label^='Retry delivery']");
                await page.waitForSelector("text=tried again");
                const both = await arrived(hook, 2);
                check(both[1].headers["webhook-id"] === first.headers["webhook-id"], "a retry keeps the event id");
                await a11yWith(endpointUrl);
                await page.goto(endpointUrl);
                await page.screenshot({ path: path.join(SHOTS, "webhook.png"), fullPage: true });
                await page.goto(`${org}/webhooks`);
                await page.screenshot({ path: path.join(SHOTS, "webhooks.png"), fullPage: true });
                await page.click("text=Every event of the organization");
                check((await page.textContent("main")).includes("number.created"), "the events feed lists the changes");
                await a11yWith(page.url());
            });

            await step("the audit log passes axe", async () => {
                await page.goto(`${org}/audit`);
                check((await page.textContent("main")).includes("verified"), "events listed");
                await a11yWith(page.url());
                await page.screenshot({ path: path.join(SHOTS, "audit.png"), fullPage: true });
            });

            await step("phone-sized screen", async () => {
                await page.setViewportSize({ width: 390, height: 844 });
                await page.goto(`${org}/configurations`);
                const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
                check(overflow <= 1, `no sideways scrolling (${overflow}px)`);
                await page.screenshot({ path: path.join(SHOTS, "phone.png"), fullPage: true });
                await page.goto(endpointUrl);
                const endpointOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
                check(endpointOverflow <= 1, `no sideways scrolling on the endpoint page (${endpointOverflow}px)`);
                await page.setViewportSize({ width: 1280, height: 900 });
            });

            await step("a viewer sees no write control, and a forged POST is refused", async () => {
                const viewerContext = await guardedContext(browser, seen, {});
                const viewer = await viewerContext.newPage();
                watch(viewer, seen);
                await viewer.goto(`${base}/console/login`);
                await viewer.fill("#email", "viewer@example.com");
                await viewer.fill("#password", "viewer password 1");
                await viewer.click("button[type=submit]");
                await viewer.waitForURL(`${org}/configurations`);
                check(!(await viewer.content()).includes("New configuration"), "no create button");
                await viewer.goto(configUrl);
                const html = await viewer.content();
                for (const control of ["Delete", "Deactivate", "Save changes", "Verify with the provider"]) {
                    check(!html.includes(control), `${control} hidden`);
                }
                const csrf = await viewer.$eval("input[name=csrf]", (e) => e.value);
                const forged = await viewer.request.post(`${configUrl}/delete`, {
                    form: { csrf, confirm: "yes" }, headers: { Origin: base },
                });
                check(forged.status() === 403, `forged delete answered ${forged.status()}`);
                const nav = await viewer.textContent("nav.sections");
                check(!nav.includes("Service accounts") && !nav.includes("Webhooks"), "no service-account or webhook link");
                const accounts = await viewer.goto(accountUrl);
                check(accounts.status() === 403, `a viewer's service-account page: ${accounts.status()}`);
                for (const [action, form] of [
                    [`${endpointUrl}/test`, { csrf }],
                    [`${endpointUrl}/delete`, { csrf, confirm: "yes" }],
                    [`${accountUrl}/tokens`, { csrf, name: "stolen", scopes: "bridges:read" }],
                ]) {
                    const answer = await viewer.request.post(action, { form, headers: { Origin: base } });
                    check(answer.status() === 403, `forged ${action} answered ${answer.status()}`);
                }
                await viewerContext.close();
            });

            await step("sign-out ends the session; the owner's new password signs in", async () => {
                await page.goto(`${org}/configurations`);
                await page.click("text=Sign out");
                await page.waitForURL(/\/console\/login/);
                await page.goto(`${org}/configurations`);
                check(page.url() === `${base}/console/login`, `after sign-out: ${page.url()}`);
                await page.fill("#email", "owner@localhost");
                await page.fill("#password", "owner password 1");
                await page.click("button[type=submit]");
                await page.waitForURL(`${org}/configurations`);
            });

            await context.close();
        });
        await step("nothing left 127.0.0.1, no CSP or script error, no secret came back", async () => {
            check(seen.blocked.length === 0, `outside requests: ${seen.blocked.join(", ")}`);
            check(seen.pageErrors.length === 0, `page errors: ${seen.pageErrors.join(" | ")}`);
            const errors = seen.consoleErrors.filter((e) => !/status of (400|401|403|404|409)/.test(e));
            check(errors.length === 0, `console errors: ${errors.join(" | ")}`);
            check(seen.leaks.length === 0, `the secret came back from: ${seen.leaks.join(", ")}`);
        });
    } finally {
        server.child.kill("SIGTERM");
        standIn.child.kill("SIGTERM");
        hook.close();
        console.log(`console browser tests: ${results.passed} passed, ${results.failed} failed`);
    }
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
