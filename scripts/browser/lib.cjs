// Shared helpers of the browser tests (run them through scripts/browser/run.sh).
//
//   const { withBrowser, withPage, check } = require(process.env.SWITCHBOARD_BROWSER_LIB);
//   await withPage("http://127.0.0.1:8080/docs", { width: 390, height: 844 }, async (page, seen) => {
//       await page.screenshot({ path: "docs/x.png" });
//   });
//
// `withPage` launches Debian's headless chromium (CHROMIUM, default /usr/bin/chromium)
// through playwright-core, opens `url` in a fresh context of the given viewport, and
// lets only requests to loopback (127.0.0.0/8, localhost, [::1]) and data:/blob: URLs
// through: anything else is aborted, recorded, and fails the test when `fn` returns
// (no request leaves 127.0.0.1). `seen` holds { requests, blocked, consoleErrors,
// pageErrors } for the test's own checks. `check(condition, message)` throws.
"use strict";

const path = require("node:path");

const modules = process.env.SWITCHBOARD_BROWSER_MODULES
    || path.join(__dirname, "..", "..", "target", "browser", "node_modules");
const { chromium } = require(path.join(modules, "playwright-core"));

function isLocal(raw) {
    let url;
    try {
        url = new URL(raw);
    } catch {
        return false;
    }
    if (url.protocol === "data:" || url.protocol === "blob:" || url.protocol === "about:") {
        return true;
    }
    const host = url.hostname.replace(/^\[|\]$/g, "");
    return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function check(condition, message) {
    if (!condition) {
        throw new Error(`check failed: ${message}`);
    }
}

async function withBrowser(fn) {
    const browser = await chromium.launch({
        executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
        headless: true,
        // Root in CI and containers: chromium's sandbox needs user namespaces.
        args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
    });
    try {
        return await fn(browser);
    } finally {
        await browser.close();
    }
}

async function withPage(url, viewport, fn) {
    return withBrowser(async (browser) => {
        const context = await browser.newContext({
            viewport: viewport || { width: 1280, height: 900 },
            serviceWorkers: "block",
        });
        const seen = { requests: [], blocked: [], consoleErrors: [], pageErrors: [] };
        await context.route("**/*", (route) => {
            const target = route.request().url();
            seen.requests.push(target);
            if (isLocal(target)) {
                return route.continue();
            }
            seen.blocked.push(target);
            return route.abort("blockedbyclient");
        });
        const page = await context.newPage();
        page.on("console", (message) => {
            if (message.type() === "error") {
                seen.consoleErrors.push(message.text());
            }
        });
        page.on("pageerror", (error) => seen.pageErrors.push(String(error)));
        await page.goto(url, { waitUntil: "networkidle" });
        const result = await fn(page, seen);
        check(
            seen.blocked.length === 0,
            `the page asked for addresses outside loopback: ${seen.blocked.join(", ")}`,
        );
        check(seen.pageErrors.length === 0, `uncaught page errors: ${seen.pageErrors.join(" | ")}`);
        await context.close();
        return result;
    });
}

module.exports = { withBrowser, withPage, check, isLocal };
