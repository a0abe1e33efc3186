// The hhpnet page: images, video jobs, webcam stream, settings. Talks only to this server.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const { el } = HH;
  let token = sessionStorage.getItem("hhpnet-token") || "";

  // ------------------------------------------------------------------ errors and the API
  function showError(message) {
    const line = String(message || "").split("\n")[0];
    $("error").textContent = line;
    $("error").hidden = !line;
  }

  async function api(path, init = {}) {
    const headers = new Headers(init.headers || {});
    if (token) headers.set("Authorization", `Bearer ${token}`);
    let res;
    try {
      res = await fetch(path, { ...init, headers });
    } catch (err) {
      throw new Error(`the server did not answer (${err.message})`);
    }
    if (res.status === 401) {
      $("token-form").hidden = false;
      $("token").focus();
      throw new Error("this server needs its access token: enter it above, then try again");
    }
    if (!res.ok) {
      let msg = `${res.status} ${res.statusText}`;
      try { msg = (await res.json()).error || msg; } catch (_) { /* not JSON */ }
      throw new Error(msg);
    }
    return res;
  }

  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    token = $("token").value.trim();
    sessionStorage.setItem("hhpnet-token", token);
    $("token-form").hidden = true;
    showError("");
    loadVersion();
  });

  // ------------------------------------------------------------------ settings
  const SETTINGS = ["opt-model", "opt-detector", "opt-tile", "opt-precise", "opt-method", "opt-kpt-thr"];
  function saveSettings() {
    const s = {};
    for (const id of SETTINGS) s[id] = $(id).type === "checkbox" ? $(id).checked : $(id).value;
    localStorage.setItem("hhpnet-settings", JSON.stringify(s));
  }
  function restoreSettings() {
    let s = {};
    try { s = JSON.parse(localStorage.getItem("hhpnet-settings") || "{}"); } catch (_) { s = {}; }
    for (const id of SETTINGS) {
      if (!(id in s)) continue;
      if ($(id).type === "checkbox") $(id).checked = !!s[id]; else $(id).value = s[id];
    }
  }
  for (const id of SETTINGS) $(id).addEventListener("change", saveSettings);

  function query(extra = {}) {
    const q = new URLSearchParams();
    if ($("opt-model").value) q.set("model", $("opt-model").value);
    if ($("opt-detector").value) q.set("detector", $("opt-detector").value);
    if ($("opt-tile").checked) q.set("tile", "true");
    if ($("opt-precise").checked) q.set("precise", "true");
    const thr = Number($("opt-kpt-thr").value);
    if (thr > 0 && thr <= 1) q.set("kpt_thr", String(thr));
    if ($("opt-method").value) q.set("method", $("opt-method").value);
    for (const [k, v] of Object.entries(extra)) q.set(k, String(v));
    return q.toString();
  }

  async function loadVersion() {
    try {
      const v = await (await api("/v1/version")).json();
      const fill = (id, values, def) => {
        const sel = $(id);
        sel.replaceChildren(...(def !== null ? [el("option", { value: "", text: `${def} (server default)` })] : []));
        for (const name of values) if (name !== def) sel.append(el("option", { value: name, text: name }));
      };
      fill("opt-model", v.models, v.model);
      fill("opt-detector", v.detectors, v.detector);
      fill("opt-method", v.methods, null);
      restoreSettings();
    } catch (err) {
      showError(err.message);
    }
  }

  // ------------------------------------------------------------------ tabs (arrow keys too)
  const tabs = ["images", "video", "webcam"];
  function selectTab(name, focus) {
    for (const t of tabs) {
      const on = t === name;
      $(`tab-${t}`).setAttribute("aria-selected", String(on));
      $(`tab-${t}`).tabIndex = on ? 0 : -1;
      $(`view-${t}`).hidden = !on;
    }
    if (focus) $(`tab-${name}`).focus();
  }
  tabs.forEach((t, k) => {
    $(`tab-${t}`).addEventListener("click", () => selectTab(t, false));
    $(`tab-${t}`).addEventListener("keydown", (ev) => {
      if (ev.key === "ArrowRight") selectTab(tabs[(k + 1) % tabs.length], true);
      if (ev.key === "ArrowLeft") selectTab(tabs[(k + tabs.length - 1) % tabs.length], true);
    });
  });

  // ------------------------------------------------------------------ layers
  function layers() {
    const on = {};
    for (const box of $("layers").querySelectorAll("input[data-layer]")) on[box.dataset.layer] = box.checked;
    return on;
  }
  const redraws = [];
  $("layers").addEventListener("change", () => redraws.forEach((f) => f()));

  function drawScene(canvas, image, record, scale = 1) {
    canvas.width = image.naturalWidth || image.width;
    canvas.height = image.naturalHeight || image.height;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(image, 0, 0);
    HH.overlays(ctx, record, layers(), scale);
  }

  function loadImage(url) {
    return new Promise((resolve, reject) => {
      const img = new Image();
      // the decoded picture stays with the element: the blob URL can go at once
      img.onload = () => { URL.revokeObjectURL(url); resolve(img); };
      img.onerror = () => { URL.revokeObjectURL(url); reject(new Error("the browser cannot show this image")); };
      img.src = url;
    });
  }

  // ------------------------------------------------------------------ images
  async function analyseImage(file) {
    const card = el("article", { class: "result", "aria-busy": "true" }, el("h2", { text: file.name }));
    $("image-results").prepend(card);
    const status = el("p", { class: "status", text: "estimating…" });
    card.append(status);
    try {
      const t0 = performance.now();
      const res = await api(`/v1/interaction?${query({ source: file.name })}`, {
        method: "POST",
        headers: { "Content-Type": file.type || "application/octet-stream" },
        body: file,
      });
      const record = await res.json();
      const img = await loadImage(URL.createObjectURL(file));
      const canvas = el("canvas", { class: "scene", "aria-label": `${file.name} with overlays` });
      const draw = () => drawScene(canvas, img, record);
      draw();
      redraws.push(draw);
      const ms = Math.round(performance.now() - t0);
      status.textContent = `${record.people.length} people · ${record.width}×${record.height} px · ${ms} ms`;
      const side = el("div", { class: "side" }, HH.peopleTable(record), HH.heatmap(record));
      card.append(el("div", { class: "result-body" }, canvas, side));
      card.dataset.ms = String(ms);
      card.classList.add("done");
    } catch (err) {
      status.textContent = `failed: ${err.message}`;
      card.classList.add("failed");
      showError(`${file.name}: ${err.message}`);
    } finally {
      card.setAttribute("aria-busy", "false");
    }
  }

  async function analyseImages(files) {
    showError("");
    for (const f of files) await analyseImage(f);
  }

  $("image-input").addEventListener("change", (ev) => {
    analyseImages([...ev.target.files]);
    ev.target.value = "";
  });
  function dropZone(zone, onFiles) {
    zone.addEventListener("dragover", (ev) => { ev.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (ev) => {
      ev.preventDefault();
      zone.classList.remove("over");
      onFiles([...ev.dataTransfer.files]);
    });
  }
  dropZone($("drop"), analyseImages);

  // ------------------------------------------------------------------ video jobs
  let job = null, poll = null;
  const frames = new Map();

  function uploadVideo(file) {
    showError("");
    const q = query({ stride: Math.max(1, Number($("video-stride").value) || 1), name: file.name,
      annotated: $("video-annotated").checked });
    $("job").hidden = false;
    $("video-result").hidden = true;
    $("job-name").textContent = file.name;
    $("job-state").textContent = "uploading";
    $("job-progress").value = 0;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/v1/videos?${q}`);
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable) $("job-frames").textContent = `uploaded ${Math.round((100 * ev.loaded) / ev.total)} %`;
    };
    xhr.onerror = () => showError("the upload failed (the server did not answer)");
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (_) { body = {}; }
      if (xhr.status === 401) { $("token-form").hidden = false; showError("this server needs its access token"); return; }
      if (xhr.status !== 202) { $("job-state").textContent = "refused"; showError(body.error || `upload refused (${xhr.status})`); return; }
      job = body;
      showJob(job);
      poll = setInterval(pollJob, 500);
    };
    xhr.send(file);
  }

  function showJob(j) {
    $("job-state").textContent = j.state;
    $("job-progress").value = j.progress === null ? 0 : Math.round(j.progress * 100);
    $("job-frames").textContent = `${j.frames}${j.total_frames ? ` / ${j.total_frames}` : ""} frames`;
    $("job-cancel").disabled = !["queued", "running"].includes(j.state);
  }

  async function pollJob() {
    if (!job) return;
    try {
      const j = await (await api(`/v1/videos/${job.id}`)).json();
      job = j;
      showJob(j);
      if (["done", "failed", "cancelled"].includes(j.state)) {
        clearInterval(poll);
        if (j.state === "failed") showError(j.error || "the video job failed");
        if (j.state === "done") await showVideoResult(j);
      }
    } catch (err) {
      clearInterval(poll);
      showError(err.message);
    }
  }

  $("job-cancel").addEventListener("click", async () => {
    if (!job) return;
    try {
      await api(`/v1/videos/${job.id}`, { method: "DELETE" });
      clearInterval(poll);
      $("job-state").textContent = "cancelled";
      $("job-cancel").disabled = true;
    } catch (err) { showError(err.message); }
  });

  async function blobOf(path) {
    return (await api(path)).blob();
  }

  async function showVideoResult(j) {
    frames.clear();
    const text = await (await api(j.files["poses.jsonl"])).text();
    for (const line of text.split("\n")) if (line.trim()) { const r = JSON.parse(line); frames.set(r.frame, r); }
    const scrub = $("scrubber");
    scrub.max = String(Math.max(0, j.previews.length - 1));
    scrub.value = "0";
    $("video-result").hidden = false;
    if (j.files["timeline.png"]) $("timeline").src = URL.createObjectURL(await blobOf(j.files["timeline.png"]));
    const list = $("downloads");
    list.replaceChildren();
    for (const [name, url] of Object.entries(j.files)) {
      const button = el("button", { type: "button", "data-file": name, text: `Download ${name}` });
      button.addEventListener("click", () => download(url, `${j.name.replace(/\.[^.]*$/, "")}_${name}`));
      list.append(el("li", {}, button));
    }
    await showFrame();
    (j.warnings || []).slice(0, 1).forEach(showError);
  }

  async function download(url, name) {
    try {
      const href = URL.createObjectURL(await blobOf(url));
      const a = el("a", { href, download: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(href), 60_000);
    } catch (err) { showError(err.message); }
  }

  let shown = 0;
  async function showFrame() {
    if (!job || !job.previews.length) return;
    const k = Number($("scrubber").value), index = job.previews[k], mine = ++shown;
    const img = await loadImage(URL.createObjectURL(await blobOf(`/v1/videos/${job.id}/frame-${index}.jpg`)));
    if (mine !== shown) return;
    const record = frames.get(index) || { people: [], width: img.naturalWidth, height: img.naturalHeight };
    drawScene($("scrub-canvas"), img, record, img.naturalWidth / (record.width || img.naturalWidth));
    $("scrub-label").textContent = `frame ${index} · ${record.time_s ?? 0} s · ${record.people.length} people`;
    $("video-table").replaceChildren(HH.peopleTable(record, `frame ${index}`));
  }
  $("scrubber").addEventListener("input", () => showFrame().catch((e) => showError(e.message)));
  redraws.push(() => { if (job && job.state === "done") showFrame(); });

  $("video-input").addEventListener("change", (ev) => {
    if (ev.target.files.length) uploadVideo(ev.target.files[0]);
    ev.target.value = "";
  });
  dropZone($("video-drop"), (files) => { if (files.length) uploadVideo(files[0]); });

  // ------------------------------------------------------------------ webcam
  // One frame in flight: the next frame is taken and sent only when the answer to the last one
  // came back, so frames are dropped (never queued) when the server is slower than the camera.
  const cam = { stream: null, ws: null, sentAt: 0, times: [], lat: [], grab: null, answered: 0 };

  function camStats() {
    const now = performance.now();
    cam.times = cam.times.filter((t) => now - t < 2000);
    const fps = cam.times.length / 2;
    const sorted = [...cam.lat].sort((a, b) => a - b);
    const p95 = sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))] : 0;
    const last = cam.lat.length ? cam.lat[cam.lat.length - 1] : 0;
    $("cam-stats").textContent = `${fps.toFixed(1)} frames/s · latency ${Math.round(last)} ms (p95 ${Math.round(p95)} ms) · ${cam.answered} frames`;
    $("cam-stats").dataset.fps = fps.toFixed(2);
    $("cam-stats").dataset.frames = String(cam.answered);
  }

  function sendFrame() {
    const video = $("cam-video");
    if (!cam.ws || cam.ws.readyState !== WebSocket.OPEN) return;
    if (!video.videoWidth) { setTimeout(sendFrame, 50); return; }  // the camera is not playing yet
    const w = video.videoWidth, h = video.videoHeight;
    cam.grab.width = w; cam.grab.height = h;
    cam.grab.getContext("2d").drawImage(video, 0, 0, w, h);
    cam.grab.toBlob((blob) => {
      if (!blob || !cam.ws || cam.ws.readyState !== WebSocket.OPEN) return;
      cam.sentAt = performance.now();
      cam.ws.send(blob);
    }, "image/jpeg", 0.8);
  }

  function wsUrl() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return `${proto}//${location.host}/v1/stream?${query()}`;
  }

  function bearerProtocol() {
    const b64 = btoa(unescape(encodeURIComponent(token))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    return `bearer.${b64}`;
  }

  async function startCam() {
    showError("");
    try {
      cam.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    } catch (err) {
      showError(`no camera: ${err.message}`);
      return;
    }
    const video = $("cam-video");
    video.srcObject = cam.stream;
    await video.play();
    cam.grab = document.createElement("canvas");
    cam.times = []; cam.lat = []; cam.answered = 0;
    const ws = new WebSocket(wsUrl(), token ? ["hhpnet", bearerProtocol()] : ["hhpnet"]);
    ws.binaryType = "arraybuffer";
    cam.ws = ws;
    ws.onopen = () => { $("cam-start").disabled = true; $("cam-stop").disabled = false; sendFrame(); };
    ws.onerror = () => showError("the webcam stream failed (is the token right?)");
    ws.onclose = (ev) => { if (cam.ws === ws) stopCam(ev.code === 1000 || ev.code === 1005 ? "" : `stream closed (${ev.code} ${ev.reason})`); };
    ws.onmessage = (ev) => {
      const record = JSON.parse(ev.data);
      const now = performance.now();
      cam.lat.push(now - cam.sentAt);
      if (cam.lat.length > 300) cam.lat.shift();
      cam.times.push(now);
      cam.answered += 1;
      if (record.error) showError(record.error);
      else {
        const canvas = $("cam-canvas");
        canvas.width = cam.grab.width; canvas.height = cam.grab.height;
        const ctx = canvas.getContext("2d");
        ctx.drawImage(cam.grab, 0, 0);
        HH.overlays(ctx, record, layers());
        $("cam-table").replaceChildren(HH.peopleTable(record, `frame ${record.frame}`));
      }
      camStats();
      sendFrame();
    };
  }

  function stopCam(message) {
    const ws = cam.ws;
    cam.ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000);
    if (cam.stream) cam.stream.getTracks().forEach((t) => t.stop());
    cam.stream = null;
    $("cam-start").disabled = false;
    $("cam-stop").disabled = true;
    if (message) showError(message);
  }

  $("cam-start").addEventListener("click", startCam);
  $("cam-stop").addEventListener("click", () => stopCam(""));

  loadVersion();
})();
