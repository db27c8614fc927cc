import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const IMGX = resolve(import.meta.dir, "../../dist/imgx");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the compiled binary (built by scripts/test before the suite). */
export async function imgx(args: string[], opts: { env?: Record<string, string>; stdin?: string; cwd?: string } = {}): Promise<RunResult> {
  if (!existsSync(IMGX)) throw new Error(`${IMGX} is missing: run "bun run build" first`);
  const p = Bun.spawn([IMGX, ...args], {
    stdout: "pipe",
    stderr: "pipe",
    stdin: opts.stdin !== undefined ? new Blob([opts.stdin]) : "ignore",
    env: { ...process.env, NO_COLOR: "1", ...opts.env },
    cwd: opts.cwd,
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

/** A temp dir removed by the returned cleanup. */
export function tempDir(prefix = "imgx-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Fails (never skips) when a required peer tool is missing. */
export function requireTool(name: string): void {
  if (!Bun.which(name)) throw new Error(`${name} is not installed; the test suite needs it (apt-get install -y ${name === "docker-registry" ? "docker-registry" : name})`);
}

export async function run(cmd: string[], opts: { cwd?: string } = {}): Promise<RunResult> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", cwd: opts.cwd });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

/** Runs imgx and throws (with its stderr) unless it exits 0. */
export async function imgxOk(args: string[], env?: Record<string, string>): Promise<RunResult> {
  const r = await imgx(args, { env });
  if (r.code !== 0) throw new Error(`imgx ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r;
}
