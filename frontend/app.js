// Cat Upload: ask the API for a presigned PUT, upload straight to S3, show the gallery.
// Classic script (no modules, no build step); everything lives inside this closure.
"use strict";

(function () {
  const ALLOWED_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];
  const MAX_BYTES = 10 * 1024 * 1024;
  // Browsers set these themselves (from the Blob) and refuse scripts that try to.
  const BROWSER_SET_HEADERS = ["content-length", "host"];

  const $ = (id) => document.getElementById(id);
  let uploadsDone = 0;
  let nextCursor = null;
  let galleryGeneration = 0; // newer gallery loads win over older, slower ones
  let uploadQueue = Promise.resolve(); // batches run one after another

  // ---- configuration ------------------------------------------------------

  // Returns the base URL without trailing slashes, or "" when unusable.
  function readConfig() {
    const config = window.CAT_UPLOAD_CONFIG;
    const raw = config && typeof config.apiBaseUrl === "string" ? config.apiBaseUrl.trim() : "";
    return raw.replace(/\/+$/, "");
  }

  function configProblem(base) {
    if (!base) return 'config.js has no apiBaseUrl. Run "catup deploy" to generate it.';
    try {
      const url = new URL(base);
      if (url.protocol === "https:" || url.protocol === "http:") return null;
    } catch (_) { /* fall through */ }
    return `apiBaseUrl "${base}" in config.js is not an http(s) URL. Run "catup deploy" to regenerate it.`;
  }

  // Function URLs have no paths: everything goes to the base URL itself.
  function apiUrl(params) {
    const query = params ? new URLSearchParams(params).toString() : "";
    return query ? `${readConfig()}?${query}` : readConfig();
  }

  // ---- status, errors, state ---------------------------------------------

  function setState(state) {
    document.body.dataset.state = state;
  }

  // Errors accumulate within a batch (one line per file) until the next upload starts.
  function showError(message) {
    const el = $("error");
    el.textContent = el.textContent ? `${el.textContent}\n${message}` : message;
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

  function settle() {
    setState($("error").hidden ? "idle" : "error");
  }

  function describe(err) {
    const text = err && typeof err.message === "string" ? err.message : String(err);
    return text || "unknown error";
  }

  // ---- API ----------------------------------------------------------------

  // The API answers {"error": {"code", "message"}}; AWS's own front door answers {"Message"}.
  async function errorMessage(response) {
    try {
      const body = await response.json();
      if (body && body.error && typeof body.error.message === "string") return body.error.message;
      if (body && typeof body.Message === "string") {
        return `The API answered HTTP ${response.status}: ${body.Message}`;
      }
    } catch (_) { /* not JSON */ }
    return `The API answered HTTP ${response.status}${response.statusText ? " " + response.statusText : ""}.`;
  }

  async function callApi(url, options) {
    let response;
    try {
      response = await fetch(url, options);
    } catch (err) {
      throw new Error(`Network error while contacting the API (${describe(err)}).`);
    }
    if (!response.ok) throw new Error(await errorMessage(response));
    try {
      return await response.json();
    } catch (_) {
      throw new Error("The API answered something that is not JSON.");
    }
  }

  async function requestUploadUrl(file) {
    const upload = await callApi(apiUrl(), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contentType: file.type, size: file.size }),
    });
    if (!upload || typeof upload.uploadUrl !== "string") {
      throw new Error("The API answered without an upload URL.");
    }
    return upload;
  }

  // S3 errors are XML: <Error><Code>..</Code><Message>..</Message></Error>.
  function s3Reason(xml) {
    try {
      const doc = new DOMParser().parseFromString(xml || "", "application/xml");
      const pick = (tag) => (doc.getElementsByTagName(tag)[0] || {}).textContent || "";
      const reason = [pick("Code"), pick("Message")].filter(Boolean).join(": ");
      return reason.length > 200 ? `${reason.slice(0, 197)}...` : reason;
    } catch (_) {
      return "";
    }
  }

  // XMLHttpRequest, not fetch: only it reports upload progress.
  function putFile(upload, file, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(upload.method || "PUT", upload.uploadUrl);
      // Exactly the signed headers; S3 refuses a request whose signed headers differ.
      for (const [name, value] of Object.entries(upload.headers || {})) {
        if (!BROWSER_SET_HEADERS.includes(name.toLowerCase())) xhr.setRequestHeader(name, String(value));
      }
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100));
      };
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) return resolve();
        const reason = s3Reason(xhr.responseText);
        reject(new Error(`Storage refused the upload of "${file.name}" (HTTP ${xhr.status}${reason ? ", " + reason : ""}).`));
      };
      xhr.onerror = () => reject(new Error(
        `Network error while uploading "${file.name}" to storage (connection failed or blocked by CORS).`));
      xhr.onabort = () => reject(new Error(`The upload of "${file.name}" was cancelled.`));
      xhr.send(file);
    });
  }

  // ---- uploading ----------------------------------------------------------

  function validate(file) {
    if (!ALLOWED_TYPES.includes(file.type)) {
      return `"${file.name}" is not a supported image type. Use JPEG, PNG, GIF or WebP.`;
    }
    if (file.size === 0) {
      return `"${file.name}" is empty.`;
    }
    if (file.size > MAX_BYTES) {
      // Round up so a file just over the limit never reads as "10.0 MiB".
      const mib = Math.ceil((file.size / MAX_BYTES) * 100) / 10;
      return `"${file.name}" is too large (${mib.toFixed(1)} MiB). The limit is 10 MiB.`;
    }
    return null;
  }

  function setProgress(percent) {
    const progress = $("upload-progress");
    if (percent === null) { progress.hidden = true; return; }
    progress.hidden = false;
    progress.value = percent;
  }

  async function uploadBatch(files) {
    clearError();
    showStatus("");
    setState("uploading");
    const uploaded = [];
    for (const [index, file] of files.entries()) {
      const problem = validate(file);
      if (problem) { showError(problem); continue; }
      setState("uploading");
      const label = files.length > 1 ? `${file.name} (${index + 1} of ${files.length})` : file.name;
      showStatus(`Uploading ${label}: 0%`);
      setProgress(0);
      try {
        const upload = await requestUploadUrl(file);
        await putFile(upload, file, (percent) => {
          setProgress(percent);
          showStatus(`Uploading ${label}: ${percent}%`);
        });
        uploaded.push(file.name);
        showStatus(`Uploaded ${uploaded.join(", ")}`);
        // Refresh before counting, so data-uploads-done = N means the gallery already shows it.
        await loadGallery(false);
        awaitThumbnails();
        uploadsDone += 1;
        document.body.dataset.uploadsDone = String(uploadsDone);
      } catch (err) {
        showError(describe(err));
        showStatus(uploaded.length ? `Uploaded ${uploaded.join(", ")}` : "");
      } finally {
        setProgress(null);
      }
    }
    settle();
  }

  function uploadFiles(fileList) {
    const files = Array.from(fileList || []);
    if (!files.length) return;
    uploadQueue = uploadQueue.then(() => uploadBatch(files)).catch((err) => {
      showError(`Unexpected problem: ${describe(err)}`);
    });
  }

  // ---- gallery ------------------------------------------------------------

  function formatSize(bytes) {
    if (typeof bytes !== "number" || !isFinite(bytes)) return "";
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`;
    return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  }

  function formatDate(iso) {
    const date = new Date(iso);
    return isNaN(date.getTime()) ? "" : date.toLocaleString();
  }

  function altText(key) {
    const name = String(key).replace(/^images\//, "");
    return `Cat picture ${name}`;
  }

  function renderImages(images, append) {
    const gallery = $("gallery");
    if (!append) gallery.replaceChildren();
    for (const image of images) {
      if (!image || typeof image.url !== "string") continue;
      const figure = document.createElement("figure");
      figure.className = "gallery-figure";
      const link = document.createElement("a");
      link.href = image.url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      const img = document.createElement("img");
      img.className = "gallery-item";
      // The thumbnail in the grid when there is one (the link opens the original); until a
      // fresh upload's thumbnail is made, the original, scaled by the browser.
      const thumbnail = typeof image.thumbUrl === "string" ? image.thumbUrl : null;
      img.src = thumbnail || image.url;
      img.dataset.key = String(image.key);
      img.dataset.thumbnail = thumbnail ? "true" : "false";
      img.alt = altText(image.key);
      img.loading = "lazy";
      img.decoding = "async";
      // Presigned URLs expire; a thumbnail loaded too late shows a placeholder instead.
      img.addEventListener("error", () => figure.classList.add("broken"));
      link.append(img);
      const caption = document.createElement("figcaption");
      const time = document.createElement("time");
      if (image.lastModified) time.dateTime = image.lastModified;
      time.textContent = formatDate(image.lastModified);
      caption.append(formatSize(image.size), document.createElement("br"), time);
      figure.append(link, caption);
      gallery.append(figure);
    }
    $("gallery-empty").hidden = gallery.children.length > 0;
  }

  // The thumbnail function (when the stack has one) makes a fresh upload's thumbnail a few
  // seconds after it arrives: the first page is asked again a few times, and each thumbnail
  // that appeared replaces its original in place (nothing else is reloaded).
  const THUMBNAIL_CHECKS = 10;
  const THUMBNAIL_CHECK_MS = 2000;
  let thumbnailChecksLeft = 0;
  let thumbnailTimer = null;
  const waitingForThumbnails = () =>
    [...document.querySelectorAll('#gallery img.gallery-item[data-thumbnail="false"]')];

  function awaitThumbnails() {
    thumbnailChecksLeft = THUMBNAIL_CHECKS;
    if (!thumbnailTimer) thumbnailTimer = setTimeout(checkThumbnails, THUMBNAIL_CHECK_MS);
  }

  async function checkThumbnails() {
    thumbnailTimer = null;
    if (!waitingForThumbnails().length || thumbnailChecksLeft <= 0) return;
    thumbnailChecksLeft -= 1;
    try {
      const page = await callApi(apiUrl(null));
      const waiting = waitingForThumbnails();
      for (const image of (page && Array.isArray(page.images) && page.images) || []) {
        if (!image || typeof image.thumbUrl !== "string") continue;
        const img = waiting.find((i) => i.dataset.key === String(image.key));
        if (!img) continue;
        img.src = image.thumbUrl;
        img.dataset.thumbnail = "true";
      }
    } catch (_) {
      // The next check (or the next gallery load) asks again.
    }
    if (thumbnailChecksLeft > 0 && waitingForThumbnails().length) {
      thumbnailTimer = setTimeout(checkThumbnails, THUMBNAIL_CHECK_MS);
    }
  }

  async function loadGallery(append) {
    if (append && !nextCursor) return;
    const generation = ++galleryGeneration;
    const more = $("load-more");
    more.disabled = true;
    try {
      const params = append && nextCursor ? { cursor: nextCursor } : null;
      const page = await callApi(apiUrl(params));
      if (generation !== galleryGeneration) return; // a newer load replaced this one
      if (!page || !Array.isArray(page.images)) throw new Error("The API answered a gallery without images.");
      renderImages(page.images, append);
      nextCursor = typeof page.next === "string" && page.next ? page.next : null;
      more.hidden = !nextCursor;
    } catch (err) {
      if (generation === galleryGeneration) showError(`Could not load the gallery: ${describe(err)}`);
    } finally {
      if (generation === galleryGeneration) more.disabled = false;
    }
  }

  // ---- wiring -------------------------------------------------------------

  function wireDropZone() {
    const zone = $("drop-zone");
    const leave = () => zone.classList.remove("drag-over");
    zone.addEventListener("dragenter", (e) => { e.preventDefault(); zone.classList.add("drag-over"); });
    zone.addEventListener("dragover", (e) => {
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
      zone.classList.add("drag-over");
    });
    // dragleave also fires when moving onto a child; only leave when the pointer exits the zone.
    zone.addEventListener("dragleave", (e) => { if (!zone.contains(e.relatedTarget)) leave(); });
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      leave();
      uploadFiles(e.dataTransfer && e.dataTransfer.files);
    });
  }

  function wireControls() {
    $("file-input").addEventListener("change", (e) => {
      uploadFiles(e.target.files);
      e.target.value = ""; // so picking the same file again fires "change" again
    });
    wireDropZone();
    $("load-more").addEventListener("click", () => {
      loadGallery(true).then(() => { if (document.body.dataset.state !== "uploading") settle(); });
    });
  }

  function disableUploads(message) {
    const error = $("error");
    error.textContent = `Cat Upload is not configured: ${message}`;
    error.hidden = false;
    $("file-input").disabled = true;
    $("file-button").setAttribute("aria-disabled", "true");
    $("drop-zone").classList.add("disabled");
    setState("unconfigured");
  }

  function start() {
    document.body.dataset.uploadsDone = "0";
    // A file dropped beside the zone would otherwise replace the page with the image.
    window.addEventListener("dragover", (e) => e.preventDefault());
    window.addEventListener("drop", (e) => e.preventDefault());
    const problem = configProblem(readConfig());
    if (problem) { disableUploads(problem); return; }
    setState("idle");
    wireControls();
    loadGallery(false).then(() => { if (document.body.dataset.state !== "uploading") settle(); });
  }

  start();
})();
