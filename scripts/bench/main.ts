// imgx vs skopeo on the same bytes. Prints markdown tables of medians and ratios (skopeo ÷ imgx
// for time: > 1 means imgx is faster).
import { chmodSync, existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { measure, measurePair, row, type Measurement } from "./measure.ts";
import { benchLoad } from "./load.ts";
import { benchRegistry } from "./registry.ts";
import { benchServe } from "./serve.ts";
import { benchCompress, type Corpus } from "./compress.ts";
import { benchDecompress } from "./decompress.ts";
import { benchLevels } from "./levels.ts";
import { benchVersus } from "./versus.ts";
import { benchSync } from "./sync.ts";
import { REAL_DIRS } from "../../fixtures/real-save.ts";

const args = process.argv.slice(2);
const flag = (n: string, d: string) => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1]! : d;
};
const sections = args.filter((a) => !a.startsWith("--") && !/^\d+$/.test(a));
// "versus" runs only when named: it needs --baseline
const want = (s: string) => (sections.length === 0 && s !== "versus") || sections.includes(s) || sections.includes("all");
const runs = Number(flag("--runs", "3"));
const sizeMb = Number(flag("--size-mb", "1024"));
// compression rows run on both corpora unless one is named: real files (the headline) and random bytes
const corpusFlag = flag("--corpus", "both");
const corpora = corpusFlag === "both" ? ["real", "random"] : corpusFlag.split(",");
const work = resolve(".bench");
// a private copy, so rebuilding dist/imgx during a long run changes nothing mid-measurement
mkdirSync(resolve(".bench"), { recursive: true });
const imgx = resolve(".bench/imgx");
await Bun.write(imgx, Bun.file(resolve("dist/imgx")));
chmodSync(imgx, 0o755);
mkdirSync(work, { recursive: true });

async function bigTar(mb: number): Promise<string> {
  const p = `${work}/save-${mb}m.tar`;
  if (!existsSync(p)) {
    process.stderr.write(`generating ${mb} MiB docker-save tarball ${p}\n`);
    const g = Bun.spawn([process.execPath, "fixtures/generate.ts", "--big", String(mb), p], { stdout: "inherit", stderr: "inherit" });
    if ((await g.exited) !== 0) throw new Error("fixture generation failed");
  }
  return p;
}

/** The real-file docker-save (fixtures/real-save.ts), built once per machine and kept under .bench/. */
async function realTar(): Promise<string> {
  const p = `${work}/real-save.tar`;
  if (!existsSync(p)) {
    process.stderr.write(`generating the real-file docker-save ${p} from ${REAL_DIRS.join(" ")}\n`);
    const g = Bun.spawn([process.execPath, "fixtures/generate.ts", "--real", p], { stdout: "inherit", stderr: "inherit" });
    if ((await g.exited) !== 0) throw new Error("real-file corpus generation failed");
  }
  return p;
}

async function corpusList(): Promise<Corpus[]> {
  const out: Corpus[] = [];
  for (const name of corpora) {
    if (name === "real") out.push({ name, tar: await realTar(), note: `tars of ${REAL_DIRS.join(", ")} of this machine` });
    else if (name === "random") out.push({ name, tar: await bigTar(sizeMb), note: "4 layers of seeded random bytes" });
    else throw new Error(`--corpus ${name}: expected real, random or both, comma-separated`);
  }
  return out;
}

function table(title: string, ours: Measurement, theirs: Measurement, extra: Measurement[] = []): string {
  const lines = [`### ${title}`, "", "| tool | median s | CPU s (user+sys) | peak RSS MiB | runs (s) |", "|---|---|---|---|---|"];
  for (const m of [ours, theirs, ...extra]) lines.push(row([m.label, m.seconds, m.cpuSeconds, m.rssMiB.toFixed(0), m.runs.map((r) => r.toFixed(2)).join(", ")]));
  lines.push("", `speed ratio skopeo/imgx: **${(theirs.seconds / ours.seconds).toFixed(2)}×** (CPU time: ${(theirs.cpuSeconds / ours.cpuSeconds).toFixed(2)}×)`, "");
  return lines.join("\n");
}

async function benchConvert(): Promise<void> {
  const tar = await bigTar(sizeMb);
  const out = `${work}/convert-out`;
  const clean = async () => rmSync(out, { recursive: true, force: true });
  const [ours, theirs] = await measurePair(
    { label: "imgx convert --compress none", cmd: [imgx, "convert", "--quiet", "--compress", "none", tar, `oci:${out}`] },
    { label: "skopeo copy (uncompressed layers kept)", cmd: ["skopeo", "copy", "-q", "--dest-oci-accept-uncompressed-layers", `docker-archive:${tar}`, `oci:${out}:bench`] },
    { runs, before: clean },
  );
  const sha = await measure("openssl dgst -sha256 (same file)", ["openssl", "dgst", "-sha256", tar], { runs });
  // skopeo fsyncs each blob it writes; imgx, like cp, tar and crane, leaves that to the OS. With a
  // sync after it, imgx's data is on disk too when the time stops.
  const synced = await measure("imgx convert --compress none && sync", ["sh", "-c", `"$0" convert --quiet --compress none "$1" "oci:$2" && sync`, imgx, tar, out], { runs, before: clean });
  await clean();
  console.log(table(`convert docker-save → OCI layout, ${(statSync(tar).size / 2 ** 20).toFixed(0)} MiB, 4 layers`, ours, theirs, [sha, synced]));
  console.log(`with its data on disk (sync) as skopeo's is: skopeo/imgx **${(theirs.seconds / synced.seconds).toFixed(2)}×**\n`);
  console.log(`imgx ÷ openssl sha256 time: **${(ours.seconds / sha.seconds).toFixed(2)}×** (target ≤ 1.5×)\n`);
}

/** Peak RSS must stay flat as the image grows: 1 GiB vs 4 GiB through the same convert. */
async function benchScale(): Promise<void> {
  const out = `${work}/scale-out`;
  const clean = async () => rmSync(out, { recursive: true, force: true });
  const small = await measure("imgx convert 1 GiB", [imgx, "convert", "--quiet", "--compress", "none", await bigTar(1024), `oci:${out}`], { runs, before: clean });
  const big = await measure("imgx convert 4 GiB", [imgx, "convert", "--quiet", "--compress", "none", await bigTar(4096), `oci:${out}`], { runs, before: clean });
  await clean();
  console.log(`### memory as the image grows\n\n| image | median s | peak RSS MiB |\n|---|---|---|\n| 1 GiB | ${small.seconds.toFixed(2)} | ${small.rssMiB.toFixed(0)} |\n| 4 GiB | ${big.seconds.toFixed(2)} | ${big.rssMiB.toFixed(0)} |\n`);
}

async function benchStartup(): Promise<void> {
  const m = await measure("imgx --version", [imgx, "--version"], { runs: Math.max(runs, 15) });
  console.log(`### startup\n\nimgx --version median ${(m.seconds * 1000).toFixed(1)} ms over ${m.runs.length} runs (target < 50 ms)\n`);
}

const ctx = { work, imgx, runs, table };
if (want("levels")) await benchLevels(await Promise.all((await corpusList()).map(async (c) => ({ name: c.name, path: c.tar }))), Number(flag("--sample-mb", "64")), runs);
if (want("compress")) for (const c of await corpusList()) await benchCompress(ctx, c);
if (want("decompress")) await benchDecompress(ctx, await realTar());
if (want("convert")) await benchConvert();
if (want("pull") || want("push") || want("copy")) await benchRegistry({ work, imgx, runs, sizeMb, bigTar, table, sections: { pull: want("pull"), push: want("push"), copy: want("copy") } });
if (want("scale")) await benchScale();
if (want("serve")) for (const c of await corpusList()) await benchServe({ imgx, runs }, c);
if (want("startup")) await benchStartup();
if (want("load") || want("load-hey") || want("load-nginx")) await benchLoad({ work, imgx, runs, sections: { hey: want("load") || want("load-hey"), nginx: want("load") || want("load-nginx") } });
if (sections.includes("versus")) {
  const baseline = flag("--baseline", "");
  if (!baseline || !existsSync(baseline)) throw new Error("versus: pass --baseline /path/to/an/earlier/imgx");
  const randomTar = await bigTar(sizeMb);
  const gzLayout = `${work}/big-gz-oci-${sizeMb}m`;
  if (!existsSync(`${gzLayout}/index.json`)) Bun.spawnSync([imgx, "convert", "-q", "--compress", "gzip", randomTar, `oci:${gzLayout}:bench`]);
  await benchVersus({ work, imgx, baseline: resolve(baseline), runs, randomTar, realTar: await realTar(), gzLayout });
}
if (want("sync")) await benchSync({ work, imgx, runs });
