import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { generateAll } from "../../fixtures/generate.ts";
import { IMGX, imgx, run, tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-out-");
const fx = join(t.dir, "fx");
beforeAll(() => generateAll(fx));
afterAll(t.cleanup);

const DIGEST = /^sha256:[a-f0-9]{64}$/;
type Ev = Record<string, unknown>;

/** The NDJSON event schema documented in the README. */
function checkEvent(e: Ev): void {
  expect(typeof e.time).toBe("string");
  switch (e.type) {
    case "blob-start":
      expect(e.digest).toMatch(DIGEST);
      expect(typeof e.mediaType).toBe("string");
      break;
    case "blob-progress":
      expect(e.digest).toMatch(DIGEST);
      expect(typeof e.bytes).toBe("number");
      break;
    case "blob-done":
      expect(e.digest).toMatch(DIGEST);
      expect(e.outDigest).toMatch(DIGEST);
      expect(["copied", "exists", "mounted"]).toContain(e.state as string);
      expect(typeof e.size).toBe("number");
      expect(typeof e.seconds).toBe("number");
      break;
    case "manifest":
      expect(e.digest).toMatch(DIGEST);
      expect(Array.isArray(e.names)).toBe(true);
      break;
    case "summary":
      expect(Array.isArray(e.images)).toBe(true);
      expect(typeof e.bytes).toBe("number");
      expect(Object.keys(e.blobs as object).sort()).toEqual(["copied", "exists", "mounted"]);
      expect(typeof e.seconds).toBe("number");
      break;
    default:
      throw new Error(`unknown event type ${String(e.type)}`);
  }
}

describe("output", () => {
  test("--json: NDJSON events on stdout, nothing on stderr, a summary last", async () => {
    const r = await imgx(["convert", "--json", join(fx, "legacy-save.tar"), `oci:${join(t.dir, "j")}`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Ev);
    events.forEach(checkEvent);
    expect(events.filter((e) => e.type === "blob-done").length).toBe(4);
    const last = events.at(-1)!;
    expect(last.type).toBe("summary");
    expect((last.images as { digest: string }[])[0]!.digest).toMatch(DIGEST);
  });

  test("--json for inspect and errors keep stdout parseable", async () => {
    const r = await imgx(["inspect", "--json", join(fx, "legacy-save.tar")]);
    const d = JSON.parse(r.stdout);
    expect(d.config.os).toBe("linux");
    expect(d.layers.length).toBe(3);
  });

  test("without a TTY: one line per finished blob and a summary on stderr, the digest on stdout", async () => {
    const r = await imgx(["convert", join(fx, "legacy-save.tar"), `oci:${join(t.dir, "lines")}`]);
    const lines = r.stderr.trim().split("\n");
    expect(lines.filter((l) => l.startsWith("copied")).length).toBe(4);
    expect(lines.at(-1)).toMatch(/^done: .* \(4 copied, 0 existing, 0 mounted\)$/);
    expect(r.stdout.trim()).toMatch(/^oci:.*@sha256:[a-f0-9]{64}$/);
    const q = await imgx(["convert", "-q", join(fx, "legacy-save.tar"), `oci:${join(t.dir, "quiet")}`]);
    expect(q.stderr + q.stdout).toBe("");
  });

  test("on a TTY (under script): progress bars render and end with the summary", async () => {
    const out = join(t.dir, "tty-out");
    const cmd = `${IMGX} convert ${join(fx, "docker25-save.tar")} oci:${out}`;
    const r = await run(["script", "-q", "-e", "-c", cmd, "/dev/null"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("\x1b[2K"); // lines are redrawn in place
    expect(r.stdout).toMatch(/\[=+\]/);
    expect(r.stdout).toContain("done: ");
    const noColor = await run(["env", "NO_COLOR=1", "script", "-q", "-e", "-c", `${IMGX} convert ${join(fx, "docker25-save.tar")} oci:${out}-2`, "/dev/null"]);
    expect(noColor.stdout).not.toContain("\x1b[32m");
  });

  test('"-" reads a (possibly gzipped) docker-save tarball from stdin', async () => {
    const gz = join(t.dir, "save.tar.gz");
    await Bun.write(gz, Bun.gzipSync(new Uint8Array(await Bun.file(join(fx, "legacy-save.tar")).arrayBuffer())));
    for (const input of [join(fx, "legacy-save.tar"), gz]) {
      const p = Bun.spawn([IMGX, "inspect", "--json", "-"], { stdin: Bun.file(input), stdout: "pipe", stderr: "pipe" });
      const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
      expect(code).toBe(0);
      expect(JSON.parse(out).names).toEqual(["imgx-demo/app:1.0"]);
    }
  });
});
