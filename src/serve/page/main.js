// The upload view: pick or drop a tarball, see what it holds, choose the target, upload.
import { openArchive } from "./archive.js";
import { initBrowse, showBrowse } from "./browse.js";
import { choicesOf, indexUpload } from "./platforms.js";
import { ProgressView } from "./progress.js";
import { Upload, fileKey } from "./upload.js";
import { $, api, copyText, el, fmtBytes, setConfig } from "./util.js";

let current; // { file, key, choices (platforms.js choicesOf), chosen, bytes (where layers are read from), compression }

function showError(msg) {
  const box = $("#file-error");
  box.textContent = msg;
  box.hidden = !msg;
}

/** "app:1.2" → "<first registry>/app:1.2"; a name already on an allowed registry stays as it is. */
function prefill(names, registries) {
  const n = (names[0] ?? "").replace(/^docker\.io\/(library\/)?/, "");
  if (!n) return `${registries[0]}/image:latest`;
  const first = n.split("/")[0];
  if (n.includes("/") && registries.includes(first)) return n;
  const hasHost = n.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  return `${registries[0]}/${hasHost ? n.split("/").slice(1).join("/") : n}`;
}

/** `usedBy` (all platforms): per layer, the platforms whose images list it. */
function layerTable(layers, usedBy) {
  const head = ["#", "size", "sent as", "digest", ...(usedBy ? ["platforms"] : [])];
  const row = (l, i) => [String(i + 1), fmtBytes(l.size), l.gzip ? "tar → gzip" : l.compression, l.expect.slice(0, 19) + "…", ...(usedBy ? [usedBy[i].join(", ")] : [])];
  return el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { text: h })))), el("tbody", {}, ...layers.map((l, i) => el("tr", {}, ...row(l, i).map((t, k) => el("td", { class: k === 3 ? "digest" : undefined, text: t })))))));
}

const INDEX_NAME = { oci: "OCI image index", docker: "docker manifest list" };

function renderImages(cfg) {
  const { choices } = current;
  const box = $("#images");
  const rows = choices.map((c, k) => {
    const radio = el("input", { type: "radio", name: "image", id: `img-${k}`, value: k, checked: k === current.chosen, "data-testid": c.kind === "all" ? "all-platforms" : undefined, onchange: () => choose(k, cfg) });
    if (c.kind === "all") {
      const plan = indexUpload(c);
      const usedBy = plan.layers.map((_, j) => plan.platforms.filter((p) => p.slots.includes(j)).map((p) => p.image.platform));
      const label = ` All platforms: ${c.images.map((i) => i.platform).join(", ")} · ${c.names.join(", ") || "(untagged image)"} · pushed as one ${INDEX_NAME[c.form]}`;
      const note = `${plan.layers.length} layers, ${fmtBytes(plan.layers.reduce((a, l) => a + l.size, 0))} (a layer shared by platforms is sent once); each platform's manifest is written by digest, the index under the tag last.`;
      const skipped = c.skipped.length ? `Not in the archive, so not in the index: ${c.skipped.join(", ")}.` : "";
      return el("fieldset", { class: "image all" }, el("legend", {}, radio, el("label", { for: `img-${k}`, text: label })), el("p", { class: "hint", text: note }), skipped && el("p", { class: "hint", text: skipped }), layerTable(plan.layers, usedBy));
    }
    const img = c.image;
    return el("fieldset", { class: "image" }, el("legend", {}, radio, el("label", { for: `img-${k}`, text: ` ${img.names.join(", ") || "(untagged image)"} · ${img.platform} · ${img.format}${choices.some((o) => o.kind === "all" && o.images.includes(img)) ? " · this platform only" : ""}` })), layerTable(img.layers));
  });
  const packed = current.compression === "none" ? "" : `, ${current.compression}: ${fmtBytes(current.bytes.size)} decompressed, read twice — to index and to send`;
  box.replaceChildren(el("h2", { text: `In ${current.file.name} (${fmtBytes(current.file.size)}${packed})` }), ...rows);
}

function choose(k, cfg) {
  current.chosen = k;
  const c = current.choices[k];
  const saved = JSON.parse(localStorage.getItem(current.key) ?? "null");
  $("#reference").value = saved?.reference ?? prefill(c.kind === "all" ? c.names : c.image.names, cfg.registries);
  $("#resume-note").hidden = !saved;
}

async function pick(file, cfg) {
  showError("");
  $("#result").replaceChildren();
  $("#progress").replaceChildren();
  $("#images").replaceChildren(el("p", { text: `Reading ${file.name}…` }));
  $("#upload").disabled = true;
  try {
    const reading = $("#images p");
    const { images, bytes, compression } = await openArchive(file, (n) => (reading.textContent = `Reading ${file.name}: decompressing to index it, ${fmtBytes(n)} so far…`));
    current = { file, key: await fileKey(file), choices: choicesOf(images), chosen: 0, bytes, compression };
    renderImages(cfg);
    choose(0, cfg);
    $("#upload").disabled = false;
  } catch (e) {
    current = undefined;
    $("#images").replaceChildren();
    showError(`${file.name}: ${e.message}`);
  }
}

async function upload(cfg) {
  if (!current) return;
  const c = current.choices[current.chosen];
  const image = c.kind === "all" ? indexUpload(c) : c.image;
  const view = new ProgressView($("#progress"), image.layers);
  const btn = $("#upload");
  btn.disabled = true;
  $("#result").replaceChildren();
  try {
    const out = await new Upload(current.bytes, current.key, image, $("#reference").value.trim(), view).run();
    view.done();
    const copy = (text) => el("button", { type: "button", class: "copy", text: "Copy", onclick: (e) => copyText(text, e.currentTarget) });
    $("#result").replaceChildren(
      el("h2", { text: "Pushed" }),
      el("p", {}, el("span", { text: `${out.reference}${out.manifests ? ` (${INDEX_NAME[out.mediaType.includes("docker") ? "docker" : "oci"]})` : ""} → ` }), el("code", { class: "digest", "data-testid": "digest", text: out.digest }), copy(out.digest)),
      ...(out.manifests ?? []).map((m) => el("p", { class: "platform-digest" }, el("span", { text: `${m.platform} → ` }), el("code", { class: "digest", text: m.digest }))),
      ...out.pull.map((line) => el("p", {}, el("code", { text: line }), copy(line))),
    );
    $("#result").dataset.state = "ok";
    $("#resume-note").hidden = true;
  } catch (e) {
    view.done();
    $("#result").dataset.state = "error";
    $("#result").replaceChildren(el("p", { class: "error", role: "alert", text: `Upload failed: ${e.message}` }));
  } finally {
    btn.disabled = false;
  }
}

function tabs() {
  const views = { upload: $("#upload-view"), browse: $("#browse-view") };
  for (const b of document.querySelectorAll("[role=tab]"))
    b.addEventListener("click", () => {
      for (const o of document.querySelectorAll("[role=tab]")) o.setAttribute("aria-selected", String(o === b));
      for (const [k, v] of Object.entries(views)) v.hidden = k !== b.dataset.view;
      if (b.dataset.view === "browse") showBrowse();
    });
}

async function init() {
  const cfg = await api("GET", "/api/config");
  setConfig(cfg);
  $("#registries").textContent = cfg.registries.join(", ");
  tabs();
  initBrowse(cfg);
  const input = $("#file");
  input.addEventListener("change", () => input.files[0] && pick(input.files[0], cfg));
  const drop = $("#drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const f = e.dataTransfer?.files?.[0];
    if (f) pick(f, cfg);
  });
  $("#target-form").addEventListener("submit", (e) => {
    e.preventDefault();
    upload(cfg);
  });
  document.body.dataset.ready = "1";
}

init().catch((e) => showError(`Cannot start: ${e.message}`));
