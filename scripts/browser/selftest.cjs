// Self-test of the browser harness: a page served on 127.0.0.1 that also asks for an
// outside address; the harness must render it, abort the outside request and report it.
//   scripts/browser/run.sh scripts/browser/selftest.cjs
"use strict";
const http = require("node:http");
const { withPage, check } = require(process.env.SWITCHBOARD_BROWSER_LIB);

const html = `<!doctype html><title>selftest</title><h1 id="t">harness ok</h1>
<img src="https://example.invalid/pixel.png">`;

async function main() {
    const server = http.createServer((_, res) => res.end(html)).listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const url = `http://127.0.0.1:${server.address().port}/`;
    let failed = null;
    try {
        await withPage(url, { width: 390, height: 600 }, async (page, seen) => {
            check((await page.textContent("#t")) === "harness ok", "the page rendered");
            check(seen.blocked.length === 1, "the outside request was seen and aborted");
        });
    } catch (error) {
        failed = error;
    } finally {
        server.close();
    }
    check(failed && /outside loopback/.test(failed.message), "the outside request failed the page");
    console.log("browser harness: 1 passed, 0 failed");
}
main().catch((error) => {
    console.error(error);
    process.exit(1);
});
