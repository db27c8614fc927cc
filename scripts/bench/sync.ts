// Mirror benchmark: `imgx sync` vs `skopeo sync` moving the same 30 small images (3 repositories ×
// 10 tags, 3 gzip layers each) from one local docker-registry to an empty one, then the no-change
// re-sync. Inputs are generated on demand into the source registry, never committed.
//   bash scripts/bench/run sync [--runs 3]
import { writeFileSync } from "node:fs";
import { measurePair, type Measurement } from "./measure.ts";
import { startRegistry, type RunningRegistry } from "../../test/harness/registry.ts";
import { seedImage } from "../../test/harness/seed.ts";
import { blobOf, sha256, type Blob } from "../../test/harness/tiny-image.ts";

interface Ctx {
  work: string;
  imgx: string;
  runs: number;
}

const REPOS = ["bench/r0", "bench/r1", "bench/r2"];
const TAGS = Array.from({ length: 10 }, (_, i) => `1.${i}`);
const LAYER_BYTES = [64, 128, 256].map((k) => k * 1024);

/** A 3-layer image of seeded random bytes (gzip level 1: stays about as big as it is). */
export function smallImage(seed: number): { blobs: Blob[]; manifest: Blob } {
  let x = seed * 2654435761 + 1;
  const rand = (n: number) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
    return b;
  };
  const layers = LAYER_BYTES.map((n) => {
    const raw = rand(n);
    return { raw, blob: blobOf("application/vnd.oci.image.layer.v1.tar+gzip", Bun.gzipSync(raw, { level: 1 })) };
  });
  const cfg = { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: layers.map((l) => sha256(l.raw)) }, config: { Labels: { seed: String(seed) } } };
  const config = blobOf("application/vnd.oci.image.config.v1+json", new TextEncoder().encode(JSON.stringify(cfg)));
  const man = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: l.blob.mediaType, digest: l.blob.digest, size: l.blob.size })),
  };
  return { blobs: [...layers.map((l) => l.blob), config], manifest: blobOf(man.mediaType, new TextEncoder().encode(JSON.stringify(man))) };
}

function verdict(ok: boolean): string {
  return ok ? "yes" : "**no**";
}

export async function benchSync(c: Ctx): Promise<void> {
  const src = await startRegistry("open");
  let dst: RunningRegistry | undefined;
  const fresh = async () => {
    await dst?.stop();
    dst = await startRegistry("open");
  };
  try {
    let seed = 0;
    for (const repo of REPOS) for (const tag of TAGS) await seedImage(src.url, repo, smallImage(++seed), [tag]);
    const yaml = `${c.work}/skopeo-sync.yaml`;
    writeFileSync(yaml, `${src.host}:\n  tls-verify: false\n  images:\n${REPOS.map((r) => `    ${r}: []\n`).join("")}`);
    const imgxCmd = () => [c.imgx, "sync", "--quiet", "--plain-http", ...REPOS.flatMap((r) => ["--repo", r]), src.host, dst!.host];
    // skopeo writes DEST/<last path component> (r0, r1, r2): other names, the same images and work
    const skopeoCmd = () => ["skopeo", "sync", "--src", "yaml", "--dest", "docker", "--dest-tls-verify=false", yaml, dst!.host];

    const [cold, coldSk] = await measurePair({ label: "imgx sync", cmd: imgxCmd }, { label: "skopeo sync", cmd: skopeoCmd }, { runs: c.runs, before: fresh });
    // no change: the destination already holds every tag
    await fresh();
    const fill = Bun.spawnSync(imgxCmd());
    if (fill.exitCode !== 0) throw new Error(`imgx sync (fill): ${fill.stderr.toString()}`);
    const [warm, warmSk] = await measurePair({ label: "imgx sync (no change)", cmd: imgxCmd }, { label: "skopeo sync (no change)", cmd: skopeoCmd }, { runs: c.runs });
    printSync(cold, coldSk, warm, warmSk);
  } finally {
    await dst?.stop();
    await src.stop();
  }
}

function printSync(cold: Measurement, coldSk: Measurement, warm: Measurement, warmSk: Measurement): void {
  const r1 = coldSk.seconds / cold.seconds;
  const r2 = warmSk.seconds / warm.seconds;
  const rss = Math.max(cold.rssMiB, warm.rssMiB);
  const lines = [
    `### sync: 30 images (3 repositories × 10 tags, 3 gzip layers, ${LAYER_BYTES.reduce((a, b) => a + b, 0) / 1024} KiB each) registry → registry`,
    "",
    "| run | imgx s | skopeo s | skopeo/imgx | imgx peak RSS MiB | target | met? |",
    "|---|---|---|---|---|---|---|",
    `| to an empty registry | ${cold.seconds.toFixed(2)} | ${coldSk.seconds.toFixed(2)} | ${r1.toFixed(2)}× | ${cold.rssMiB.toFixed(0)} | ≥ 2× | ${verdict(r1 >= 2)} |`,
    `| no change (re-sync) | ${warm.seconds.toFixed(2)} | ${warmSk.seconds.toFixed(2)} | ${r2.toFixed(2)}× | ${warm.rssMiB.toFixed(0)} | ≥ 10×, < 2 s | ${verdict(r2 >= 10 && warm.seconds < 2)} |`,
    `| peak RSS | ${rss.toFixed(0)} MiB | | | | < 150 MiB | ${verdict(rss < 150)} |`,
    "",
    `runs (s): imgx ${cold.runs.map((x) => x.toFixed(2)).join(", ")}; skopeo ${coldSk.runs.map((x) => x.toFixed(2)).join(", ")}; no change: imgx ${warm.runs.map((x) => x.toFixed(2)).join(", ")}; skopeo ${warmSk.runs.map((x) => x.toFixed(2)).join(", ")}`,
    "",
  ];
  console.log(lines.join("\n"));
}
