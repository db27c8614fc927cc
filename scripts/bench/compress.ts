// Every path where imgx compresses, imgx vs skopeo on the same bytes, once per corpus (real files:
// deflate works; random bytes: blocks are stored). Beside time and RSS, the bytes each tool wrote:
// faster only counts at (about) the same size.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { measurePair, type Measurement } from "./measure.ts";
import { startRegistry } from "../../test/harness/registry.ts";

export interface Corpus {
  name: string;
  /** A legacy docker-save tarball (uncompressed layers). */
  tar: string;
  note: string;
}

interface Ctx {
  work: string;
  imgx: string;
  runs: number;
  table: (title: string, ours: Measurement, theirs: Measurement) => string;
}

async function run(cmd: string[]): Promise<void> {
  const p = Bun.spawn(cmd, { stdout: "ignore", stderr: "pipe" });
  if ((await p.exited) !== 0) throw new Error(`${cmd.join(" ")}: ${await new Response(p.stderr).text()}`);
}

const MANIFEST_TYPES = ["application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"].join(", ");
const sumLayers = (m: { layers: { size: number }[] }) => m.layers.reduce((n, l) => n + l.size, 0);

/** Layer bytes of the image an OCI layout's first index entry names. */
function layoutLayerBytes(dir: string): number {
  const idx = JSON.parse(readFileSync(`${dir}/index.json`, "utf8"));
  return sumLayers(JSON.parse(readFileSync(`${dir}/blobs/sha256/${idx.manifests[0].digest.slice(7)}`, "utf8")));
}

async function registryLayerBytes(host: string): Promise<number> {
  const r = await fetch(`http://${host}/v2/bench/app/manifests/1`, { headers: { accept: MANIFEST_TYPES } });
  if (!r.ok) throw new Error(`manifest of ${host}/bench/app:1: HTTP ${r.status}`);
  return sumLayers((await r.json()) as { layers: { size: number }[] });
}

/** Bytes written per tool (the last timed run's; both tools write the same size every run). */
class Sizes {
  private by = new Map<string, number>();
  record(label: string, n: number): void {
    this.by.set(label, n);
  }
  line(ours: Measurement, theirs: Measurement, input: number): string {
    const a = this.by.get(ours.label)!;
    const b = this.by.get(theirs.label)!;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    return `layer bytes written: imgx ${mb(a)} MB (${(a / input).toFixed(3)} of the input), skopeo ${mb(b)} MB (${(b / input).toFixed(3)}); imgx/skopeo **${(a / b).toFixed(3)}×** (target ≤ 1.05×)\n`;
  }
}

export async function benchCompress(c: Ctx, corpus: Corpus): Promise<void> {
  const input = Bun.file(corpus.tar).size;
  const out = `${c.work}/compress-out`;
  const clean = async () => rmSync(out, { recursive: true, force: true });
  const sizes = new Sizes();
  const title = (what: string) => `${what} — ${corpus.name} corpus (${(input / 2 ** 20).toFixed(0)} MiB: ${corpus.note})`;

  const [oursGz, theirsGz] = await measurePair(
    { label: "imgx convert --compress gzip", cmd: [c.imgx, "convert", "--quiet", "--compress", "gzip", corpus.tar, `oci:${out}`] },
    { label: "skopeo copy docker-archive: → oci: (gzip)", cmd: ["skopeo", "copy", "-q", `docker-archive:${corpus.tar}`, `oci:${out}:bench`] },
    { runs: c.runs, before: clean, after: async (label) => sizes.record(label, layoutLayerBytes(out)) },
  );
  await clean();
  console.log(c.table(title("convert docker-save → OCI layout, gzip"), oursGz, theirsGz));
  console.log(sizes.line(oursGz, theirsGz, input));

  // the same layers as an OCI layout, uncompressed: push compresses them (both tools)
  const plain = `${corpus.tar}.plain-oci`;
  if (!existsSync(`${plain}/index.json`)) await run([c.imgx, "convert", "--quiet", "--compress", "none", corpus.tar, `oci:${plain}:bench`]);
  let reg: Awaited<ReturnType<typeof startRegistry>> | undefined;
  const fresh = async () => {
    await reg?.stop();
    reg = await startRegistry("open");
  };
  const after = async (label: string) => sizes.record(label, await registryLayerBytes(reg!.host));
  const sk = ["skopeo", "copy", "-q", "--dest-tls-verify=false"];
  try {
    const [ours, theirs] = await measurePair(
      { label: "imgx push docker-save (gzip)", cmd: () => [c.imgx, "push", "--quiet", "--plain-http", corpus.tar, `${reg!.host}/bench/app:1`] },
      { label: "skopeo copy docker-archive: → docker:// (gzip)", cmd: () => [...sk, `docker-archive:${corpus.tar}`, `docker://${reg!.host}/bench/app:1`] },
      { runs: c.runs, before: fresh, after },
    );
    console.log(c.table(title("push docker-save (uncompressed layers, gzip on the way) to a fresh local registry"), ours, theirs));
    console.log(sizes.line(ours, theirs, input));
    const [oursOci, theirsOci] = await measurePair(
      { label: "imgx push oci: (uncompressed layers)", cmd: () => [c.imgx, "push", "--quiet", "--plain-http", `oci:${plain}:bench`, `${reg!.host}/bench/app:1`] },
      { label: "skopeo copy oci: → docker:// (gzip)", cmd: () => [...sk, `oci:${plain}:bench`, `docker://${reg!.host}/bench/app:1`] },
      { runs: c.runs, before: fresh, after },
    );
    console.log(c.table(title("push an OCI layout with uncompressed layers (gzip on the way) to a fresh local registry"), oursOci, theirsOci));
    console.log(sizes.line(oursOci, theirsOci, input));
  } finally {
    await reg?.stop();
  }
}
