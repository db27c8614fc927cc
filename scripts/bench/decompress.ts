// Decompression where imgx needs it (gzip/zstd layers into a docker-archive, diff_id checks):
// the decoders Bun has vs the system's gzip, pigz and zstd, on the real corpus compressed once by
// pigz (one member, as most registries' layers are), by imgx (1 MiB members) and by zstd.
// Each decoder runs in its own process, reading the file and discarding the output.
import { existsSync } from "node:fs";
import { measure, row } from "./measure.ts";

interface Ctx {
  work: string;
  imgx: string;
  runs: number;
}

// stream decoders inside Bun, as imgx runs them (Web stream in, bytes counted, nothing kept)
const WEB = `const [f, fmt] = process.argv.slice(-2); let n = 0;
for await (const c of Bun.file(f).stream().pipeThrough(new DecompressionStream(fmt))) n += c.length;`;
const NODE = `const [f] = process.argv.slice(-1); const z = require("node:zlib"); const fs = require("node:fs"); let n = 0;
for await (const c of fs.createReadStream(f, { highWaterMark: 1 << 20 }).pipe(z.createGunzip())) n += c.length;`;

async function sh(cmd: string): Promise<void> {
  const p = Bun.spawn(["sh", "-c", cmd], { stdout: "ignore", stderr: "pipe" });
  if ((await p.exited) !== 0) throw new Error(`${cmd}: ${await new Response(p.stderr).text()}`);
}

export async function benchDecompress(c: Ctx, tar: string): Promise<void> {
  const has = (t: string) => Bun.which(t) !== null;
  const inputs: { name: string; path: string; fmt: "gzip" | "zstd" }[] = [];
  const gzPigz = `${tar}.pigz.gz`;
  if (has("pigz")) {
    if (!existsSync(gzPigz)) await sh(`pigz -6 -c "${tar}" > "${gzPigz}.tmp" && mv "${gzPigz}.tmp" "${gzPigz}"`);
    inputs.push({ name: "pigz -6 (one member)", path: gzPigz, fmt: "gzip" });
  }
  // imgx's own gzip: the layers of a convert, concatenated members, as one file
  const gzImgx = `${tar}.imgx.gz`;
  if (!existsSync(gzImgx)) await sh(`"${c.imgx}" convert --quiet --compress gzip "${tar}" oci:"${gzImgx}.d" && cat $(ls -S "${gzImgx}.d"/blobs/sha256/* | head -1) > "${gzImgx}" && rm -rf "${gzImgx}.d"`);
  inputs.push({ name: "imgx (1 MiB members; largest layer)", path: gzImgx, fmt: "gzip" });
  const zst = `${tar}.zst`;
  if (has("zstd")) {
    if (!existsSync(zst)) await sh(`zstd -q -3 -T0 -c "${tar}" > "${zst}.tmp" && mv "${zst}.tmp" "${zst}"`);
    inputs.push({ name: "zstd -3", path: zst, fmt: "zstd" });
  }
  const lines = [
    `### decompression, ${c.runs} runs each (MiB/s of output, median)`,
    "",
    "| input | decoder | median s | MiB/s |",
    "|---|---|---|---|",
  ];
  for (const inp of inputs) {
    const outBytes = inp.path === gzImgx ? await uncompressedSize(inp.path) : Bun.file(tar).size;
    const decoders: [string, string[]][] = [[`DecompressionStream("${inp.fmt}") (imgx)`, [process.execPath, "-e", WEB, inp.path, inp.fmt]]];
    if (inp.fmt === "gzip") {
      decoders.push(["node:zlib createGunzip", [process.execPath, "-e", NODE, inp.path]]);
      decoders.push(["gzip -dc", ["sh", "-c", 'gzip -dc "$0" > /dev/null', inp.path]]);
      if (has("pigz")) decoders.push(["pigz -dc", ["sh", "-c", 'pigz -dc "$0" > /dev/null', inp.path]]);
    } else decoders.push(["zstd -dc", ["sh", "-c", 'zstd -qdc "$0" > /dev/null', inp.path]]);
    for (const [label, cmd] of decoders) {
      const m = await measure(label, cmd, { runs: c.runs });
      lines.push(row([inp.name, label, m.seconds, (outBytes / 2 ** 20 / m.seconds).toFixed(0)]));
    }
  }
  if (!has("pigz")) lines.push("", "(pigz not installed: `apt-get install pigz` to add its rows)");
  console.log(`${lines.join("\n")}\n`);
}

async function uncompressedSize(path: string): Promise<number> {
  let n = 0;
  for await (const c of Bun.file(path).stream().pipeThrough(new DecompressionStream("gzip"))) n += c.length;
  return n;
}
