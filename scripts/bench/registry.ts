// Registry benchmarks against a fresh local docker-registry (plain HTTP on loopback).
import { existsSync, rmSync } from "node:fs";
import { measurePair, type Measurement } from "./measure.ts";
import { startRegistry } from "../../test/harness/registry.ts";

interface Ctx {
  work: string;
  imgx: string;
  runs: number;
  sizeMb: number;
  bigTar: (mb: number) => Promise<string>;
  table: (title: string, ours: Measurement, theirs: Measurement) => string;
  sections: { pull: boolean; push: boolean; copy: boolean };
}

async function run(cmd: string[]): Promise<void> {
  const p = Bun.spawn(cmd, { stdout: "ignore", stderr: "pipe" });
  if ((await p.exited) !== 0) throw new Error(`${cmd.join(" ")}: ${await new Response(p.stderr).text()}`);
}

export async function benchRegistry(c: Ctx): Promise<void> {
  const tar = await c.bigTar(c.sizeMb);
  // Layers gzip-compressed once, so pull/push/copy move the same compressed bytes with both tools.
  const gzLayout = `${c.work}/big-gz-oci-${c.sizeMb}m`;
  if (!existsSync(`${gzLayout}/index.json`)) await run([c.imgx, "convert", "--quiet", "--compress", "gzip", tar, `oci:${gzLayout}:bench`]);
  const out = `${c.work}/reg-out`;
  const clean = async () => rmSync(out, { recursive: true, force: true });
  const sk = ["skopeo", "copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false"];

  if (c.sections.pull) {
    const reg = await startRegistry("open");
    try {
      await run([...sk, `oci:${gzLayout}:bench`, `docker://${reg.host}/bench/app:1`]);
      const [ours, theirs] = await measurePair(
        { label: "imgx pull", cmd: [c.imgx, "pull", "--quiet", "--plain-http", `${reg.host}/bench/app:1`, out] },
        { label: "skopeo copy docker:// → oci:", cmd: [...sk, `docker://${reg.host}/bench/app:1`, `oci:${out}:bench`] },
        { runs: c.runs, before: clean },
      );
      console.log(c.table(`pull ${c.sizeMb} MiB 4-layer image from a local registry → OCI layout`, ours, theirs));
    } finally {
      await reg.stop();
      await clean();
    }
  }

  if (c.sections.push) {
    let reg: Awaited<ReturnType<typeof startRegistry>> | undefined;
    const fresh = async () => {
      await reg?.stop();
      reg = await startRegistry("open");
    };
    try {
      const [ours, theirs] = await measurePair(
        { label: "imgx push (OCI layout)", cmd: () => [c.imgx, "push", "--quiet", "--plain-http", `oci:${gzLayout}:bench`, `${reg!.host}/bench/app:1`] },
        { label: "skopeo copy oci: → docker://", cmd: () => [...sk, `oci:${gzLayout}:bench`, `docker://${reg!.host}/bench/app:1`] },
        { runs: c.runs, before: fresh },
      );
      console.log(c.table(`push ${c.sizeMb} MiB 4-layer OCI layout (gzip layers) to a fresh local registry`, ours, theirs));
      // pushes that compress (docker-save, uncompressed layouts) are in compress.ts, on both corpora
    } finally {
      await reg?.stop();
    }
  }

  if (c.sections.copy) {
    const src = await startRegistry("open");
    let dst: Awaited<ReturnType<typeof startRegistry>> | undefined;
    const fresh = async () => {
      await dst?.stop();
      dst = await startRegistry("open");
    };
    try {
      await run([...sk, `oci:${gzLayout}:bench`, `docker://${src.host}/bench/app:1`]);
      const [ours, theirs] = await measurePair(
        { label: "imgx copy", cmd: () => [c.imgx, "copy", "--quiet", "--plain-http", `${src.host}/bench/app:1`, `${dst!.host}/bench/app:1`] },
        { label: "skopeo copy docker:// → docker://", cmd: () => [...sk, `docker://${src.host}/bench/app:1`, `docker://${dst!.host}/bench/app:1`] },
        { runs: c.runs, before: fresh },
      );
      console.log(c.table(`registry → registry copy, ${c.sizeMb} MiB, fresh destination each run`, ours, theirs));
    } finally {
      await dst?.stop();
      await src.stop();
    }
  }
}
