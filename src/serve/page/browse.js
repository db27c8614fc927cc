// The browse view: repositories (paginated), tags, and per tag its platforms, layers and config.
import { $, api, copyText, el, fmtBytes, getConfig } from "./util.js";

let registry;
let loaded = false;

export function initBrowse(cfg) {
  const sel = $("#browse-registry");
  sel.replaceChildren(...cfg.registries.map((r) => el("option", { value: r, text: r })));
  registry = cfg.registries[0];
  sel.addEventListener("change", () => {
    registry = sel.value;
    loadRepos();
  });
}

export function showBrowse() {
  if (!loaded) loadRepos();
  loaded = true;
}

function fail(where, e) {
  where.replaceChildren(el("p", { class: "error", role: "alert", text: e.message }));
}

async function loadRepos(last) {
  const list = $("#repos");
  if (!last) {
    list.replaceChildren();
    $("#tags").replaceChildren();
    $("#image").replaceChildren();
  }
  $("#more-repos")?.remove();
  try {
    const page = await api("GET", `/api/catalog?registry=${encodeURIComponent(registry)}${last ? `&last=${encodeURIComponent(last)}` : ""}`);
    if (!last && page.repositories.length === 0) list.append(el("li", { text: "No repositories yet." }));
    for (const r of page.repositories) list.append(el("li", {}, el("button", { type: "button", class: "link", text: r, onclick: () => loadTags(r) })));
    if (page.next) list.after(el("button", { type: "button", id: "more-repos", text: "More repositories", onclick: () => loadRepos(page.next) }));
  } catch (e) {
    fail(list, e);
  }
}

async function loadTags(repo) {
  const box = $("#tags");
  $("#image").replaceChildren();
  box.replaceChildren(el("p", { text: "Loading tags…" }));
  try {
    const { tags } = await api("GET", `/api/tags?registry=${encodeURIComponent(registry)}&repo=${encodeURIComponent(repo)}`);
    box.replaceChildren(el("h3", { text: `${registry}/${repo}` }), el("ul", { class: "tags" }, ...tags.map((t) => el("li", {}, el("button", { type: "button", class: "link", text: t, onclick: () => loadImage(repo, t) })))));
    if (tags.length === 0) box.append(el("p", { text: "No tags." }));
  } catch (e) {
    fail(box, e);
  }
}

async function loadImage(repo, tag) {
  const box = $("#image");
  box.replaceChildren(el("p", { text: "Loading…" }));
  try {
    const info = await api("GET", `/api/image?registry=${encodeURIComponent(registry)}&repo=${encodeURIComponent(repo)}&ref=${encodeURIComponent(tag)}`);
    const copy = (text) => el("button", { type: "button", class: "copy", text: "Copy", "aria-label": `Copy ${text}`, onclick: (e) => copyText(text, e.currentTarget) });
    const parts = [el("h3", { text: `${repo}:${tag}` }), el("p", {}, el("code", { class: "digest", text: info.digest }), copy(info.digest))];
    for (const img of info.images) {
      const c = img.config ?? {};
      const plat = img.platform ? [img.platform.os, img.platform.architecture, img.platform.variant].filter(Boolean).join("/") : [c.os, c.architecture, c.variant].filter(Boolean).join("/");
      parts.push(
        el(
          "section",
          { class: "platform" },
          el("h4", { text: `${plat || "unknown platform"} · ${fmtBytes(img.size)}` }),
          el(
            "dl",
            {},
            el("dt", { text: "created" }), el("dd", { text: c.created ?? "–" }),
            el("dt", { text: "entrypoint / cmd" }), el("dd", { text: `${JSON.stringify(c.entrypoint ?? null)} ${JSON.stringify(c.cmd ?? null)}` }),
            el("dt", { text: "workdir / user" }), el("dd", { text: `${c.workingDir || "/"} · ${c.user || "root"}` }),
            el("dt", { text: "env / ports / labels" }), el("dd", { text: `${c.env ?? 0} variables · ${(c.exposedPorts ?? []).join(", ") || "no ports"} · ${Object.keys(c.labels ?? {}).length} labels` }),
            el("dt", { text: "manifest" }), el("dd", {}, el("code", { class: "digest", text: img.digest }), copy(img.digest)),
          ),
          el("div", { class: "scroll" }, el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: "#" }), el("th", { text: "size" }), el("th", { text: "digest" }), el("th", { text: "" }))), el("tbody", {}, ...img.layers.map((l, i) => el("tr", {}, el("td", { text: String(i + 1) }), el("td", { text: fmtBytes(l.size) }), el("td", {}, el("code", { class: "digest", text: l.digest })), el("td", {}, copy(l.digest))))))),
        ),
      );
    }
    if (getConfig().allowDelete)
      parts.push(
        el("button", {
          type: "button",
          class: "danger",
          text: `Delete ${tag}`,
          onclick: async () => {
            if (!confirm(`Delete ${registry}/${repo}:${tag}? Every tag pointing at ${info.digest} goes with it.`)) return;
            try {
              await api("DELETE", `/api/tag?registry=${encodeURIComponent(registry)}&repo=${encodeURIComponent(repo)}&ref=${encodeURIComponent(tag)}`);
              loadTags(repo);
            } catch (e) {
              fail(box, e);
            }
          },
        }),
      );
    box.replaceChildren(...parts);
  } catch (e) {
    fail(box, e);
  }
}
