// Real-browser end-to-end test of the Cat Upload site, run by tests/browser.rs against
// `catup dev` (everything on loopback: the site, the local Function URL, moto as S3).
//
//   CATUP_WEBSITE_URL=http://localhost:PORT/ CATUP_FUNCTION_URL=http://localhost:N/ \
//   CATUP_ENDPOINT_URL=http://127.0.0.1:M node tests/browser/e2e.mjs
//
// Optional: CATUP_SCREENSHOT (default target/browser/gallery.png), CATUP_CHROMIUM (default
// /usr/bin/chromium). Exits 0 when every step passed, 1 with the reason otherwise.
//
// No request interception (page.route) while the API and S3 are in use: with any route
// installed, Playwright answers CORS preflights itself, which would hide a wrong CORS
// configuration. Non-loopback traffic is cut by Chromium instead (a dead proxy for everything
// but loopback, and a host resolver that resolves only localhost) and every request the page
// makes is checked to be a loopback one.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "..", "..");
const STEP_TIMEOUT_MS = 30_000;

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(2).padStart(6)}s`;
const log = (message) => console.log(`[${elapsed()}] ${message}`);

class TestFailure extends Error {}
function check(condition, message) {
  if (!condition) throw new TestFailure(message);
}

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`e2e: ${name} is not set (run through tests/browser.rs: cargo test -p catup --test browser)`);
    process.exit(2);
  }
  return value;
}

const websiteUrl = requiredEnv("CATUP_WEBSITE_URL");
const functionUrl = requiredEnv("CATUP_FUNCTION_URL");
const endpointUrl = requiredEnv("CATUP_ENDPOINT_URL").replace(/\/+$/, "");
const screenshotPath = resolve(process.env.CATUP_SCREENSHOT || join(REPO, "target", "browser", "gallery.png"));
const failureShotPath = join(dirname(screenshotPath), "failure.png");
const chromiumPath = process.env.CATUP_CHROMIUM || "/usr/bin/chromium";
// The cap catup dev was given (--max-images): uploads past it are refused with the API's words.
const maxImages = Number(requiredEnv("CATUP_MAX_IMAGES"));

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
const isLoopback = (url) => {
  const { protocol, hostname } = new URL(url);
  if (protocol === "data:" || protocol === "blob:" || protocol === "about:") return true;
  return LOOPBACK_HOSTS.has(hostname);
};
const trimSlash = (url) => url.replace(/\/+$/, "");

// ---- the browser ------------------------------------------------------------------------

const userDataDir = mkdtempSync(join(tmpdir(), "catup-chromium-"));
let context;
let page;
const consoleLines = [];
const offLoopback = [];

async function launch() {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    chromiumSandbox: false,
    timeout: STEP_TIMEOUT_MS,
    viewport: { width: 1100, height: 900 },
    // Everything but loopback goes to a closed port: no request can leave the machine.
    proxy: { server: "http://127.0.0.1:9", bypass: "localhost,127.0.0.1" },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    ],
  });
  page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on("console", (m) => consoleLines.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => consoleLines.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => consoleLines.push(`request failed: ${r.method()} ${r.url()} (${r.failure()?.errorText})`));
  context.on("request", (r) => {
    if (!isLoopback(r.url())) offLoopback.push(`${r.method()} ${r.url()}`);
  });
}

// What the page shows, for failure messages.
async function pageState() {
  try {
    return await page.evaluate(() => ({
      state: document.body.dataset.state,
      uploadsDone: document.body.dataset.uploadsDone,
      status: document.getElementById("status").textContent,
      error: document.getElementById("error").hidden ? null : document.getElementById("error").textContent,
      galleryItems: document.querySelectorAll("#gallery img.gallery-item").length,
      broken: document.querySelectorAll("#gallery figure.broken").length,
    }));
  } catch (e) {
    return { unavailable: String(e) };
  }
}

// ---- images -------------------------------------------------------------------------------

// A real PNG and a real JPEG, encoded by the browser's own canvas, of different pixel sizes.
async function drawImage(width, height, mimeType, label) {
  const dataUrl = await page.evaluate(
    ({ width, height, mimeType, label }) => {
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const g = canvas.getContext("2d");
      const sky = g.createLinearGradient(0, 0, width, height);
      sky.addColorStop(0, "#ffd59e");
      sky.addColorStop(1, "#f08a5d");
      g.fillStyle = sky;
      g.fillRect(0, 0, width, height);
      // A cat's head: ears, face, eyes, nose.
      const cx = width / 2, cy = height / 2 + height * 0.08, r = Math.min(width, height) * 0.3;
      g.fillStyle = "#555";
      g.beginPath();
      g.moveTo(cx - r, cy - r * 0.2); g.lineTo(cx - r * 0.75, cy - r * 1.35); g.lineTo(cx - r * 0.2, cy - r * 0.9);
      g.moveTo(cx + r, cy - r * 0.2); g.lineTo(cx + r * 0.75, cy - r * 1.35); g.lineTo(cx + r * 0.2, cy - r * 0.9);
      g.fill();
      g.beginPath(); g.arc(cx, cy, r, 0, 2 * Math.PI); g.fill();
      g.fillStyle = "#9be564";
      for (const dx of [-0.4, 0.4]) { g.beginPath(); g.arc(cx + dx * r, cy - 0.15 * r, r * 0.16, 0, 2 * Math.PI); g.fill(); }
      g.fillStyle = "#f7a1c4";
      g.beginPath(); g.arc(cx, cy + 0.2 * r, r * 0.09, 0, 2 * Math.PI); g.fill();
      g.fillStyle = "#222";
      g.font = `bold ${Math.round(height / 9)}px sans-serif`;
      g.textAlign = "center";
      g.fillText(label, width / 2, height - 10);
      return canvas.toDataURL(mimeType, 0.9);
    },
    { width, height, mimeType, label },
  );
  const prefix = `data:${mimeType};base64,`;
  check(dataUrl.startsWith(prefix), `canvas could not encode ${mimeType} (got ${dataUrl.slice(0, 30)}...)`);
  return Buffer.from(dataUrl.slice(prefix.length), "base64");
}

// ---- steps --------------------------------------------------------------------------------

async function openSite() {
  // Opened as a user might type it: 127.0.0.1 is sent to localhost, the origin CORS allows,
  // so that the uploads below work from a page opened either way.
  const numericUrl = websiteUrl.replace("//localhost:", "//127.0.0.1:");
  log(`open ${numericUrl}`);
  const response = await page.goto(numericUrl, { waitUntil: "load" });
  check(response && response.ok(), `the site answered HTTP ${response && response.status()} at ${numericUrl}`);
  check(page.url() === websiteUrl, `${numericUrl} ended at ${page.url()}, expected ${websiteUrl}`);
  const apiBase = await page.evaluate(() => window.CAT_UPLOAD_CONFIG && window.CAT_UPLOAD_CONFIG.apiBaseUrl);
  check(
    typeof apiBase === "string" && trimSlash(apiBase) === trimSlash(functionUrl),
    `config.js points at ${JSON.stringify(apiBase)}, expected the function URL ${functionUrl}`,
  );
  // #gallery-empty is only un-hidden once the first gallery answer was rendered.
  await page.waitForFunction(
    () => !document.getElementById("gallery-empty").hidden || document.body.dataset.state === "error",
  );
  const s = await pageState();
  check(s.state === "idle", `after loading, data-state is ${s.state}, expected idle (error: ${s.error})`);
  check(s.galleryItems === 0, `a new stack's gallery shows ${s.galleryItems} images, expected none`);
  log("site loaded: idle, empty gallery, config.js points at the function URL");
}

async function uploadImages() {
  const files = [
    { name: "cat-wide.png", mimeType: "image/png", width: 320, height: 200 },
    { name: "cat-small.jpg", mimeType: "image/jpeg", width: 240, height: 180 },
  ];
  for (const f of files) f.buffer = await drawImage(f.width, f.height, f.mimeType, f.name);
  check(files[0].buffer.subarray(1, 4).toString() === "PNG", "the PNG has no PNG signature");
  check(files[1].buffer[0] === 0xff && files[1].buffer[1] === 0xd8, "the JPEG has no JPEG signature");
  log(`upload ${files.map((f) => `${f.name} (${f.width}x${f.height}, ${f.buffer.length} bytes)`).join(" and ")} through #file-input`);

  await page.locator("#file-input").setInputFiles(files.map(({ name, mimeType, buffer }) => ({ name, mimeType, buffer })));
  // data-uploads-done counts uploads whose gallery refresh already happened.
  // An error (data-state=error) ends the wait early: nothing in this batch should fail.
  await page.waitForFunction(() => document.body.dataset.uploadsDone === "2" || document.body.dataset.state === "error")
    .catch((e) => { throw new TestFailure(`the uploads did not finish: ${e.message.split("\n")[0]}`); });
  await page.waitForFunction(() => document.body.dataset.state !== "uploading");
  await page.locator("#upload-progress").waitFor({ state: "hidden" });
  const s = await pageState();
  check(s.state === "idle" && s.error === null, `after uploading, data-state is ${s.state}, error: ${s.error}`);
  check(s.status === "Uploaded cat-wide.png, cat-small.jpg", `status reads ${JSON.stringify(s.status)}`);
  check(s.galleryItems === 2, `the gallery shows ${s.galleryItems} images after 2 uploads`);
  log(`uploads done, progress hidden, status: ${s.status}`);

  // The thumbnails load lazily: scroll each into view, as a person would, then wait for them.
  const images = page.locator("#gallery figure > a > img.gallery-item");
  for (let i = 0; i < (await images.count()); i++) await images.nth(i).scrollIntoViewIfNeeded();
  await page.waitForFunction(
    () => [...document.querySelectorAll("#gallery img.gallery-item")].every((img) => img.complete),
  );
  const rendered = await images.evaluateAll((imgs) =>
    imgs.map((img) => ({ src: img.src, width: img.naturalWidth, height: img.naturalHeight, alt: img.alt,
      broken: img.closest("figure").classList.contains("broken"), href: img.closest("a").href })));
  for (const img of rendered) {
    check(img.width > 0, `a gallery image did not render (naturalWidth 0, broken: ${img.broken}): ${img.src}`);
    check(img.src.startsWith(`${endpointUrl}/`), `gallery image not served from the emulator ${endpointUrl}: ${img.src}`);
    check(img.src.includes("X-Amz-Signature="), `gallery image URL is not presigned: ${img.src}`);
    // The grid shows the original or, once made (dev makes them in about a second), its
    // thumbnail; the link always goes to the original.
    const original = new URL(img.href).pathname;
    const shown = new URL(img.src).pathname;
    check(original.includes("/images/"), `the link around a grid image goes to ${img.href}, not an original`);
    check(shown === original || shown === original.replace("/images/", "/thumbs/"),
      `the grid shows ${img.src}, neither the original ${img.href} nor its thumbnail`);
  }
  for (const f of files) {
    const img = rendered.find((r) => r.width === f.width && r.height === f.height);
    check(img, `no rendered ${f.width}x${f.height} image (${f.name}) in the gallery: ${JSON.stringify(rendered)}`);
    f.src = img.href;
  }
  log(`gallery renders ${rendered.map((r) => `${r.width}x${r.height}`).join(" and ")} from presigned URLs on ${endpointUrl}`);

  // The presigned URLs serve exactly the uploaded bytes, with the uploaded content type.
  for (const f of files) {
    const response = await fetch(f.src);
    check(response.ok, `GET of the presigned URL of ${f.name} answered HTTP ${response.status}`);
    const body = Buffer.from(await response.arrayBuffer());
    check(body.equals(f.buffer), `${f.name}: the stored object (${body.length} bytes) differs from the upload (${f.buffer.length} bytes)`);
    const type = response.headers.get("content-type");
    check(type === f.mimeType, `${f.name} is served as ${type}, expected ${f.mimeType}`);
  }
  log("both presigned URLs serve the uploaded bytes with their content types");

  mkdirSync(dirname(screenshotPath), { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: screenshotPath, fullPage: true });
  log(`screenshot of the gallery: ${screenshotPath}`);
}

// catup dev runs the thumbnail function on each upload (moto's S3 events, through a queue,
// into the same handler): the page, still checking after the uploads, swaps each thumbnail in
// for its original in the grid; the link still opens the original.
async function thumbnailsAppear() {
  const keys = await page.locator("#gallery img.gallery-item").evaluateAll((imgs) => imgs.map((i) => i.dataset.key));
  check(keys.length === 2 && keys.every((k) => k && k.startsWith("images/")), `gallery keys: ${JSON.stringify(keys)}`);
  await page
    .waitForFunction(
      () => [...document.querySelectorAll("#gallery img.gallery-item")].every(
        (img) => img.dataset.thumbnail === "true" && img.complete && img.naturalWidth > 0),
    )
    .catch(async () => {
      throw new TestFailure(`the thumbnails never replaced their originals in the grid: ${JSON.stringify(await pageState())}`);
    });
  const shown = await page.locator("#gallery img.gallery-item").evaluateAll((imgs) =>
    imgs.map((img) => ({ key: img.dataset.key, src: img.src, href: img.closest("a").href,
      width: img.naturalWidth, height: img.naturalHeight })));
  for (const s of shown) {
    const thumbKey = `thumbs/${s.key.slice("images/".length)}`;
    check(new URL(s.src).pathname.endsWith(`/${thumbKey}`), `the grid shows ${s.src}, not the thumbnail ${thumbKey}`);
    check(new URL(s.href).pathname.endsWith(`/${s.key}`), `the thumbnail's link goes to ${s.href}, not the original`);
    check(Math.max(s.width, s.height) <= 400, `the thumbnail of ${s.key} is ${s.width}x${s.height}, over 400 px`);
  }
  const key = shown[0].key;
  const [opened] = await Promise.all([
    context.waitForEvent("page"),
    page.locator(`#gallery img.gallery-item[data-key="${key}"]`).click(),
  ]);
  await opened.waitForLoadState();
  check(new URL(opened.url()).pathname.endsWith(`/${key}`), `a click on the thumbnail opened ${opened.url()}`);
  await opened.close();
  log(`the grid shows both thumbnails (${shown.map((s) => `${s.width}x${s.height}`).join(", ")}); a click opens the original`);
}

async function uploadText() {
  log("upload notes.txt (text/plain) through #file-input");
  await page.locator("#file-input").setInputFiles({
    name: "notes.txt",
    mimeType: "text/plain",
    buffer: Buffer.from("not a cat\n"),
  });
  const expected = '"notes.txt" is not a supported image type. Use JPEG, PNG, GIF or WebP.';
  await page.locator("#error").waitFor({ state: "visible" });
  await page.waitForFunction(() => document.body.dataset.state === "error")
    .catch(() => { throw new TestFailure("no data-state=error after uploading a text file"); });
  const s = await pageState();
  check(s.error === expected, `#error reads ${JSON.stringify(s.error)}, expected ${JSON.stringify(expected)}`);
  check(s.uploadsDone === "2" && s.galleryItems === 2, `a refused file changed the uploads or the gallery: ${JSON.stringify(s)}`);
  log(`readable error shown, data-state=error: ${s.error}`);
}

// One image through #file-input, waiting until the page has settled (idle or error).
async function uploadOne(name) {
  const buffer = await drawImage(200, 150, "image/png", name);
  const before = await pageState();
  await page.locator("#file-input").setInputFiles({ name, mimeType: "image/png", buffer });
  // Settled: the upload counted, or a new error shown (the last step's may still be up).
  await page.waitForFunction(
    ({ done, error }) => {
      const shown = document.getElementById("error");
      const newError = !shown.hidden && shown.textContent !== error;
      return document.body.dataset.state !== "uploading" && (document.body.dataset.uploadsDone !== done || newError);
    },
    { done: before.uploadsDone, error: before.error ?? "" },
  );
  return pageState();
}

async function galleryFull() {
  const held = (await pageState()).galleryItems;
  check(held < maxImages, `the gallery already holds ${held} images, the cap ${maxImages} leaves no room to test it`);
  for (let i = held + 1; i <= maxImages; i++) {
    log(`upload cat-${i}.png (image ${i} of the cap ${maxImages})`);
    const s = await uploadOne(`cat-${i}.png`);
    check(s.error === null, `upload ${i} of ${maxImages} was refused: ${s.error}`);
    await page.waitForFunction((n) => document.querySelectorAll("#gallery img.gallery-item").length === n, i);
  }
  log(`upload cat-${maxImages + 1}.png, past the cap`);
  const s = await uploadOne(`cat-${maxImages + 1}.png`);
  const expected = `this gallery holds its maximum of ${maxImages} images: no more uploads until some are deleted (the stack's owner sets the cap with catup deploy --max-images)`;
  check(s.state === "error", `an upload past the cap left data-state=${s.state}, expected error`);
  check(s.error === expected, `#error reads ${JSON.stringify(s.error)}, expected ${JSON.stringify(expected)}`);
  check(s.galleryItems === maxImages, `the gallery shows ${s.galleryItems} images after a refused upload, expected ${maxImages}`);
  log(`the upload past the cap is refused with the API's message: ${s.error}`);
}

async function notConfigured(variant, respond) {
  log(`reload with config.js ${variant}`);
  await page.route("**/config.js", respond);
  try {
    await page.reload({ waitUntil: "load" });
    await page.waitForFunction(() => document.body.dataset.state === "unconfigured")
      .catch(() => { throw new TestFailure(`config.js ${variant}: no data-state=unconfigured after reloading`); });
    const s = await pageState();
    const expected = 'Cat Upload is not configured: config.js has no apiBaseUrl. Run "catup deploy" to generate it.';
    check(s.error === expected, `config.js ${variant}: #error reads ${JSON.stringify(s.error)}, expected ${JSON.stringify(expected)}`);
    check(await page.locator("#file-input").isDisabled(), `config.js ${variant}: the file input is still enabled`);
    check(
      (await page.locator("#file-button").getAttribute("aria-disabled")) === "true",
      `config.js ${variant}: the file button is not aria-disabled`,
    );
    log(`readable error shown, data-state=unconfigured, uploads disabled: ${s.error}`);
  } finally {
    await page.unrouteAll({ behavior: "wait" });
  }
}

// ---- main ---------------------------------------------------------------------------------

async function main() {
  log(`chromium ${chromiumPath}; site ${websiteUrl}; function ${functionUrl}; S3 ${endpointUrl}`);
  await launch();
  log(`browser up (Chromium ${context.browser()?.version() ?? "?"})`);
  await openSite();
  await uploadImages();
  await thumbnailsAppear();
  await uploadText();
  await galleryFull();
  // Only now any page.route: the steps above used the real CORS preflights.
  await notConfigured("missing (HTTP 404)", (route) => route.fulfill({ status: 404, contentType: "text/plain", body: "Not Found" }));
  await notConfigured("without apiBaseUrl", (route) =>
    route.fulfill({ status: 200, contentType: "application/javascript", body: 'window.CAT_UPLOAD_CONFIG = { apiBaseUrl: "" };\n' }));
  check(offLoopback.length === 0, `the page requested non-loopback URLs:\n  ${offLoopback.join("\n  ")}`);
  log("every request stayed on loopback");
}

let failed = false;
try {
  await main();
  log("PASS");
} catch (e) {
  failed = true;
  console.error(`[${elapsed()}] FAIL: ${e instanceof TestFailure ? e.message : e.stack || e}`);
  if (page) {
    console.error(`page: ${JSON.stringify(await pageState())}`);
    try {
      mkdirSync(dirname(failureShotPath), { recursive: true });
      await page.screenshot({ path: failureShotPath, fullPage: true });
      console.error(`screenshot of the failure: ${failureShotPath}`);
    } catch (_) { /* the browser may be gone */ }
  }
  if (offLoopback.length) console.error(`non-loopback requests:\n  ${offLoopback.join("\n  ")}`);
  if (consoleLines.length) console.error(`browser console:\n  ${consoleLines.join("\n  ")}`);
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
