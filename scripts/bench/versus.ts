// This imgx against an earlier imgx binary on the same jobs in the same run (alternating runs,
// medians): the "no row got slower" check for a change that should not cost speed.
//   bash scripts/bench versus --baseline /path/to/old/imgx [--runs 3] [--size-mb 1024]
import { rmSync } from "node:fs";
import { startRegistry, type RunningRegistry } from "../../test/harness/registry.ts";
import { measurePair, row, type Measurement } from "./measure.ts";

interface Ctx {
  work: string;
  imgx: string;
  baseline: string;
  runs: number;
  randomTar: string;
  realTar: string;
  gzLayout: string;
}

type Job = { title: string; cmd: (bin: string) => string[]; before?: () => Promise<void> };

export async function benchVersus(c: Ctx): Promise<void> {
  const out = `${c.work}/versus-out`;
  const clean = async () => rmSync(out, { recursive: true, force: true });
  let reg: RunningRegistry | undefined;
  const fresh = async () => {
    await reg?.stop();
    reg = await startRegistry("open");
  };
  const src = await startRegistry("open");
  try {
    const seed = Bun.spawn([c.imgx, "push", "-q", "--plain-http", `oci:${c.gzLayout}:bench`, `${src.host}/bench/app:1`], { stderr: "inherit" });
    if ((await seed.exited) !== 0) throw new Error("seeding the source registry failed");
    const jobs: Job[] = [
      { title: "convert docker-save → OCI, uncompressed (random corpus)", cmd: (b) => [b, "convert", "-q", "--compress", "none", c.randomTar, `oci:${out}`], before: clean },
      { title: "convert docker-save → OCI, gzip (real-file corpus)", cmd: (b) => [b, "convert", "-q", "--compress", "gzip", c.realTar, `oci:${out}`], before: clean },
      { title: "push docker-save → fresh registry (real-file corpus, gzip)", cmd: (b) => [b, "push", "-q", "--plain-http", c.realTar, `${reg!.host}/bench/app:1`], before: fresh },
      { title: "pull registry → OCI layout (gzip layers)", cmd: (b) => [b, "pull", "-q", "--plain-http", `${src.host}/bench/app:1`, out], before: clean },
      { title: "copy registry → fresh registry", cmd: (b) => [b, "copy", "-q", "--plain-http", `${src.host}/bench/app:1`, `${reg!.host}/bench/app:1`], before: fresh },
    ];
    const lines = ["### this imgx vs the baseline binary (same run, alternating, medians)", "", "| job | this s | baseline s | baseline ÷ this | this RSS MiB | baseline RSS MiB |", "|---|---|---|---|---|---|"];
    for (const j of jobs) {
      // the blob-info cache would let a later push skip what an earlier one compressed
      const env = { XDG_CACHE_HOME: `${c.work}/versus-cache-${crypto.randomUUID()}` };
      const [now, base]: [Measurement, Measurement] = await measurePair(
        { label: "this", cmd: () => j.cmd(c.imgx) },
        { label: "baseline", cmd: () => j.cmd(c.baseline) },
        { runs: c.runs, before: j.before, env },
      );
      lines.push(row([j.title, now.seconds, base.seconds, `${(base.seconds / now.seconds).toFixed(2)}×`, now.rssMiB.toFixed(0), base.rssMiB.toFixed(0)]));
      rmSync(env.XDG_CACHE_HOME, { recursive: true, force: true });
    }
    console.log(`${lines.join("\n")}\n\n> 1× means this binary is faster.\n`);
  } finally {
    await reg?.stop();
    await src.stop();
    await clean();
  }
}
