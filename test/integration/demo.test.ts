// `npm run demo` (scripts/demo), the README's first command: a real registry started on a free
// loopback port, push, pull by --platform, inspect, and the registry stopped by its PID afterwards.
import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { run } from "../helpers/imgx.ts";

test("the demo pushes to and pulls from a real registry, then stops it", async () => {
  const r = await run(["bash", resolve(import.meta.dir, "../../scripts/demo")]);
  if (r.code !== 0) throw new Error(`scripts/demo failed (${r.code}): ${r.stderr}\n${r.stdout.slice(-2000)}`);
  expect(r.stdout).toContain("demo ok: pushed to a real registry and pulled back by platform");
  for (const step of ["imgx push --plain-http", "imgx pull --plain-http --platform linux/arm64", "imgx inspect"]) expect(r.stdout).toContain(step);
  const pid = Number(/PID (\d+)/.exec(r.stdout)?.[1]);
  expect(pid).toBeGreaterThan(0);
  // the registry the demo started is gone (signal 0 only tests whether the PID exists)
  expect(() => process.kill(pid, 0)).toThrow();
}, 120_000);
