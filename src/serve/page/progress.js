// Per-layer and total progress: bytes the server holds plus the chunk in flight, bytes/s over the
// last few seconds, and the ETA that rate gives. Repaints at most 5 times a second.
import { $, el, fmtBytes, fmtEta } from "./util.js";

class Rate {
  constructor() {
    this.samples = [];
  }
  add(bytes) {
    const t = performance.now();
    this.samples.push([t, bytes]);
    while (this.samples.length > 2 && t - this.samples[0][0] > 5000) this.samples.shift();
  }
  get() {
    const s = this.samples;
    if (s.length < 2) return 0;
    const [t0, b0] = s[0];
    const [t1, b1] = s[s.length - 1];
    return t1 > t0 ? Math.max(0, ((b1 - b0) * 1000) / (t1 - t0)) : 0;
  }
}

export class ProgressView {
  constructor(root, layers) {
    this.root = root;
    this.layers = layers.map((l, i) => ({ size: l.size, sent: 0, inflight: 0, state: "waiting", note: "", rate: new Rate(), i }));
    this.total = new Rate();
    this.ctl = new AbortController();
    this.signal = this.ctl.signal;
    root.replaceChildren(
      el("h2", { text: "Progress" }),
      el("div", { class: "total" }, el("label", { for: "total-bar", text: "Total" }), el("progress", { id: "total-bar", max: 1, value: 0 }), el("span", { class: "stat", id: "total-text" })),
      el("ol", { class: "layers" }, ...this.layers.map((l) => (l.row = el("li", {}, el("span", { class: "lname", text: `Layer ${l.i + 1} · ${fmtBytes(l.size)}` }), (l.bar = el("progress", { max: 1, value: 0, "aria-label": `Layer ${l.i + 1}` })), (l.text = el("span", { class: "stat" })))))),
    );
    this.timer = setInterval(() => this.paint(), 200);
  }

  layer(i, { state, sent, note, digest }) {
    const l = this.layers[i];
    const changed = l.state !== state;
    Object.assign(l, { state, sent, note: note ?? "", digest });
    if (state === "present") l.skip = true;
    // a new state is shown at once: a short one ("catching up" over a few MiB) would fall between repaints
    if (changed) this.paint();
  }

  inflight(i, n) {
    this.layers[i].inflight = n;
  }

  start() {}

  done() {
    clearInterval(this.timer);
    this.paint();
  }

  paint() {
    let sent = 0;
    let size = 0;
    for (const l of this.layers) {
      const now = Math.min(l.size, l.sent + l.inflight);
      l.rate.add(now);
      const r = l.rate.get();
      l.bar.value = l.size ? now / l.size : 1;
      const extra = l.state === "sending" || l.state === "resuming" ? ` · ${fmtBytes(r)}/s · ETA ${fmtEta(r ? (l.size - now) / r : NaN)}` : "";
      l.text.textContent = `${l.state}${l.skip ? " (already in the registry)" : ""} · ${fmtBytes(now)} / ${fmtBytes(l.size)}${extra}${l.note ? ` · ${l.note}` : ""}`;
      l.row.dataset.state = l.state;
      if (!l.skip) {
        sent += now;
        size += l.size;
      }
    }
    this.total.add(sent);
    const r = this.total.get();
    $("#total-bar", this.root).value = size ? sent / size : 1;
    $("#total-text", this.root).textContent = `${fmtBytes(sent)} / ${fmtBytes(size)} · ${fmtBytes(r)}/s · ETA ${fmtEta(r ? (size - sent) / r : NaN)}`;
  }
}
