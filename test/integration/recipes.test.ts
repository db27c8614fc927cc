import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { generateAll } from "../../fixtures/generate.ts";
import { startRegistry, USERS, type RunningRegistry } from "../harness/registry.ts";
import { IMGX, imgx, tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-recipes-");
const regs: RunningRegistry[] = [];
let env: Record<string, string> = {};

/** The ```sh blocks of the README that start with "# recipe:". */
function recipes(): { name: string; script: string }[] {
  const readme = readFileSync(join(import.meta.dir, "../../README.md"), "utf8");
  return [...readme.matchAll(/```sh\n# recipe: ([^\n]+)\n([\s\S]*?)```/g)].map((m) => ({ name: m[1]!, script: m[2]! }));
}

beforeAll(async () => {
  const fx = join(t.dir, "fx");
  await generateAll(fx);
  const [open, airgap, token] = await Promise.all([startRegistry("open"), startRegistry("open"), startRegistry("token")]);
  regs.push(open, airgap, token);
  for (const args of [
    ["push", join(fx, "legacy-save.tar"), `${open.host}/team/app:1.2`],
    ["push", "--all-platforms", `oci:${join(fx, "multiarch-oci")}:1.0`, `${open.host}/team/multi:1`],
  ]) {
    const r = await imgx(args);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  env = {
    REGISTRY: open.host,
    AIRGAP_REGISTRY: airgap.host,
    TOKEN_REGISTRY: token.host,
    REGISTRY_USER: USERS[0]!.name,
    REGISTRY_PASSWORD: USERS[0]!.password,
    PATH: `${dirname(IMGX)}:${process.env.PATH}`,
    XDG_CACHE_HOME: join(t.dir, "cache"),
    HOME: t.dir,
  };
}, 60_000);
afterAll(async () => {
  await Promise.all(regs.map((r) => r.stop()));
  t.cleanup();
});

test("the README has the five recipes", () => {
  expect(recipes().map((r) => r.name)).toEqual([
    "air-gapped transfer (pull → docker-archive → carry → push)",
    "multi-arch images",
    "private registry with token auth",
    "sharing logins with docker through config.json",
    "mirror a set of repositories into an air-gapped registry",
  ]);
});

test("every README recipe runs as written", async () => {
  for (const r of recipes()) {
    const p = Bun.spawn(["bash", "-euo", "pipefail", "-c", r.script], { cwd: t.dir, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect({ recipe: r.name, code, err: code ? err + out : "" }).toEqual({ recipe: r.name, code: 0, err: "" });
  }
}, 120_000);
