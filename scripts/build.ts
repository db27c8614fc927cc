// Builds dist/imgx for this machine, plus linux-x64/arm64 binaries when their runtimes can be had.
import { $ } from "bun";

// Cross targets need Bun's runtime for that platform: cached, or fetched from the npm registry.
// Without it (offline, uncached) that target is skipped with a note; dist/imgx is always built.
const targets = process.argv.includes("--host-only") ? [] : ["bun-linux-x64", "bun-linux-arm64"];
const hostTarget = `bun-${process.platform}-${process.arch}`;
async function build(target: string, out: string): Promise<boolean> {
  const r = await $`${process.execPath} build --compile --minify --bytecode --format=esm --no-compile-autoload-dotenv --no-compile-autoload-bunfig --target=${target} --define IMGX_BUILD_TARGET=${JSON.stringify(target.replace(/^bun-/, ""))} src/main.ts --outfile ${out}`.nothrow().quiet();
  if (r.exitCode !== 0) {
    process.stderr.write(`build ${target}: skipped (${r.stderr.toString().trim().split("\n").pop()})\n`);
    return false;
  }
  process.stderr.write(`built ${out} (${target})\n`);
  return true;
}
if (!(await build(hostTarget, "dist/imgx"))) process.exit(1);
for (const t of targets) await build(t, `dist/imgx-${t.replace(/^bun-/, "")}`);
