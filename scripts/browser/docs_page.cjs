// The API reference page (GET /docs) in headless Chromium, at desktop and phone width.
//
//   scripts/browser/run.sh scripts/browser/docs_page.cjs BASE_URL [SCREENSHOT_DIR]
//
// (scripts/browser/docs_page.sh starts a server and runs this.) Checks, at 1280 and
// 390 px: the page renders the served document with Redoc; no request leaves
// loopback (the harness fails the test otherwise); the page is no wider than the
// screen; the create operation shows its request body as fields, a request sample
// and a response sample taken from the document's examples. Writes
// docs/api-reference.png and docs/api-reference-phone.png.
"use strict";
const path = require("node:path");
const { withPage, check } = require(process.env.SWITCHBOARD_BROWSER_LIB);

const [base, shots = "docs"] = process.argv.slice(2);
if (!base) {
    throw new Error("usage: docs_page.cjs BASE_URL [SCREENSHOT_DIR]");
}
const OPERATION = "operation/createProviderConfiguration";

async function rendered(page) {
    await page.waitForSelector(`[data-section-id="${OPERATION}"]`, { timeout: 30000 });
    // Redoc draws the operation lazily; give it a moment to settle.
    await page.waitForLoadState("networkidle");
}

async function noWiderThanTheScreen(page, width) {
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    check(scrollWidth <= width, `page is ${scrollWidth}px wide on a ${width}px screen`);
}

async function operationShowsFieldsAndExamples(page) {
    const section = page.locator(`[data-section-id="${OPERATION}"]`).first();
    const text = await section.innerText();
    for (const expected of ["Create a provider configuration", "Request Body schema", "Responses"]) {
        check(text.toLowerCase().includes(expected.toLowerCase()), `the operation shows "${expected}"`);
    }
    // Request body rendered as fields (names in the property table), not raw schema.
    const fields = await section.locator(".property-name").allInnerTexts();
    for (const field of ["provider", "account_sid", "auth_token", "meta_json"]) {
        check(fields.includes(field), `the request body lists the field ${field} (got ${fields.join(", ")})`);
    }
    check(!text.includes('"oneOf"') && !text.includes('"allOf"'), "no raw JSON Schema");
    // Samples from the document's examples.
    const panel = (await page.locator(`[data-section-id="${OPERATION}"]`).allInnerTexts()).join("\n");
    check(panel.includes("Request samples") && panel.includes("Response samples"), "samples shown");
    check(panel.includes("AC0123456789abcdef0123456789abcdef"), "the request example is shown");
    check(panel.includes("Provider configuration created successfully."), "the answer example is shown");
}

async function main() {
    let results = { passed: 0 };
    for (const [name, viewport] of [
        ["desktop", { width: 1280, height: 900 }],
        ["phone", { width: 390, height: 844 }],
    ]) {
        await withPage(`${base}/docs#${OPERATION}`, viewport, async (page, seen) => {
            await rendered(page);
            check(seen.requests.some((url) => url.endsWith("/api/v2/platform/openapi.json")), "the document was fetched");
            check((await page.title()).includes("Switchboard"), "title");
            await operationShowsFieldsAndExamples(page);
            await noWiderThanTheScreen(page, viewport.width);
            if (name === "phone") {
                // The menu folds away into a button on a phone.
                const sidebar = await page.locator(".menu-content").first().boundingBox();
                check(!sidebar || sidebar.x + sidebar.width <= 1 || sidebar.x >= viewport.width - 1,
                    "the menu is folded away on a phone");
            }
            const file = path.join(shots, name === "desktop" ? "api-reference.png" : "api-reference-phone.png");
            await page.screenshot({ path: file });
            console.log(`${name}: ${seen.requests.length} requests, all to loopback; screenshot ${file}`);
        });
        results.passed += 1;
    }
    console.log(`docs page: ${results.passed} passed, 0 failed`);
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
