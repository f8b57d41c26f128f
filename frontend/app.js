// Cat Upload frontend: ask the API for a presigned PUT, upload straight to S3, show the gallery.
"use strict";

const ALLOWED_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];
const MAX_BYTES = 10 * 1024 * 1024;
// Browsers set these themselves and refuse scripts that try.
const BROWSER_SET_HEADERS = ["content-length", "host"];

const $ = (id) => document.getElementById(id);
let uploadsDone = 0;
let nextCursor = null;

function readConfig() {
  const config = window.CAT_UPLOAD_CONFIG;
  const base = config && typeof config.apiBaseUrl === "string" ? config.apiBaseUrl.trim() : "";
  return base.replace(/\/+$/, "");
}

function setState(state) {
  document.body.dataset.state = state;
}

function showError(message) {
  const el = $("error");
  el.textContent = message;
  el.hidden = false;
  setState("error");
}

function clearError() {
  $("error").textContent = "";
  $("error").hidden = true;
}

function showStatus(message) {
  $("status").textContent = message;
}

// The API answers errors as {"error": {"code", "message"}}; anything else gets a generic line.
async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) return body.error.message;
  } catch (_) { /* not JSON */ }
  return `The API answered ${response.status} ${response.statusText}`.trim();
}

function validate(file) {
  if (!ALLOWED_TYPES.includes(file.type)) {
    return `"${file.name}" is not a supported image type. Use JPEG, PNG, GIF or WebP.`;
  }
  if (file.size > MAX_BYTES) {
    return `"${file.name}" is too large (${(file.size / 1048576).toFixed(1)} MiB); the limit is 10 MiB.`;
  }
  return null;
}

async function requestUploadUrl(api, file) {
  let response;
  try {
    response = await fetch(api, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contentType: file.type, size: file.size }),
    });
  } catch (err) {
    throw new Error(`Network error while contacting the API (${err.message}).`);
  }
  if (!response.ok) throw new Error(await errorMessage(response));
  return response.json();
}

// XMLHttpRequest, not fetch: only it reports upload progress.
function putFile(upload, file) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(upload.method || "PUT", upload.uploadUrl);
    for (const [name, value] of Object.entries(upload.headers || {})) {
      if (!BROWSER_SET_HEADERS.includes(name.toLowerCase())) xhr.setRequestHeader(name, value);
    }
    const progress = $("upload-progress");
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      const percent = Math.round((e.loaded / e.total) * 100);
      progress.value = percent;
      showStatus(`Uploading ${file.name}: ${percent}%`);
    };
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300
      ? resolve()
      : reject(new Error(`Storage refused the upload of "${file.name}" (HTTP ${xhr.status}).`)));
    xhr.onerror = () => reject(new Error(`Network error while uploading "${file.name}".`));
    xhr.send(file);
  });
}

async function uploadFiles(files) {
  const api = readConfig();
  if (!api) return;
  clearError();
  const progress = $("upload-progress");
  for (const file of files) {
    const problem = validate(file);
    if (problem) { showError(problem); continue; }
    setState("uploading");
    progress.value = 0;
    progress.hidden = false;
    try {
      const upload = await requestUploadUrl(api, file);
      await putFile(upload, file);
      uploadsDone += 1;
      document.body.dataset.uploadsDone = String(uploadsDone);
      showStatus(`Uploaded ${file.name}`);
      setState("idle");
    } catch (err) {
      showError(err.message);
    } finally {
      progress.hidden = true;
    }
  }
  await loadGallery(false);
}

function renderImages(images, append) {
  const gallery = $("gallery");
  if (!append) gallery.replaceChildren();
  for (const image of images) {
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.className = "gallery-item";
    img.src = image.url;
    img.alt = `Cat picture ${image.key.replace(/^images\//, "")}`;
    img.loading = "lazy";
    img.decoding = "async";
    const caption = document.createElement("figcaption");
    const when = image.lastModified ? new Date(image.lastModified).toLocaleString() : "";
    caption.textContent = `${(image.size / 1024).toFixed(0)} KiB ${when}`.trim();
    figure.append(img, caption);
    gallery.append(figure);
  }
  $("gallery-empty").hidden = gallery.children.length > 0;
}

async function loadGallery(append) {
  const api = readConfig();
  if (!api) return;
  const url = append && nextCursor ? `${api}?cursor=${encodeURIComponent(nextCursor)}` : api;
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    showError(`Network error while loading the gallery (${err.message}).`);
    return;
  }
  if (!response.ok) { showError(await errorMessage(response)); return; }
  const page = await response.json();
  renderImages(page.images || [], append);
  nextCursor = page.next || null;
  $("load-more").hidden = !nextCursor;
}

function wireControls() {
  const zone = $("drop-zone");
  $("file-input").addEventListener("change", (e) => {
    uploadFiles([...e.target.files]);
    e.target.value = "";
  });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("drag-over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("drag-over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("drag-over");
    uploadFiles([...e.dataTransfer.files]);
  });
  $("load-more").addEventListener("click", () => loadGallery(true));
}

function start() {
  if (!readConfig()) {
    $("error").textContent =
      'Cat Upload is not configured: config.js has no apiBaseUrl. Run "catup deploy" to generate it.';
    $("error").hidden = false;
    $("file-input").disabled = true;
    setState("unconfigured");
    return;
  }
  wireControls();
  loadGallery(false);
}

start();
