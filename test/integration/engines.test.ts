// Container engines load imgx's docker-archive output: `podman load` (rootful, vfs storage, its
// own root under a temp dir) and containerd's `ctr import` (a containerd started here with its
// config, root, state and socket under a temp dir, stopped by its PID). Each must see the names
// imgx wrote, the image ID (config digest) and the diff_ids of the config.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateAll } from "../../fixtures/generate.ts";
import { imgxOk, requireTool, run, tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-engines-");
const p = (n: string) => join(t.dir, n);
// rootful only: podman's rootless mode and containerd need root in this setup; say so, never skip silently
const ROOT = process.getuid?.() === 0;
if (!ROOT) console.warn("engines.test.ts: NOT RUN — podman load (rootful) and containerd need root; run the suite as root");

interface Expected {
  file: string;
  /** RepoTags in the archive → config digest and diff_ids of that image. */
  images: { names: string[]; config: string; diffIds: string[] }[];
}

/** What imgx wrote, read back from the archive's manifest.json and configs. */
async function expected(file: string): Promise<Expected> {
  const entries = JSON.parse((await run(["tar", "-xOf", file, "manifest.json"])).stdout) as { Config: string; RepoTags: string[] }[];
  const images = await Promise.all(
    entries.map(async (e) => {
      const config = JSON.parse((await run(["tar", "-xOf", file, e.Config])).stdout);
      return { names: e.RepoTags, config: `sha256:${e.Config.split("/").pop()}`, diffIds: config.rootfs.diff_ids as string[] };
    }),
  );
  return { file, images };
}

const fullName = (n: string) => (n.split("/")[0]!.includes(".") || n.split("/")[0]!.includes(":") ? n : `docker.io/${n.includes("/") ? n : `library/${n}`}`);
const archives: Expected[] = [];

beforeAll(async () => {
  if (!ROOT) return;
  for (const tool of ["podman", "containerd", "ctr"]) requireTool(tool);
  await generateAll(p("fx"));
  await imgxOk(["convert", "-q", join(p("fx"), "legacy-save.tar"), `docker-archive:${p("single.tar")}:engines/app:1.0`]);
  await imgxOk(["convert", "-q", "--platform", "linux/arm64", `oci:${join(p("fx"), "multiarch-oci")}:1.0`, `docker-archive:${p("arm64.tar")}:engines/multi:arm64`]);
  await imgxOk(["convert", "-q", join(p("fx"), "multi-save.tar"), p("multi.tar")]);
  for (const f of ["single.tar", "arm64.tar", "multi.tar"]) archives.push(await expected(p(f)));
});
afterAll(t.cleanup);

describe.skipIf(!ROOT)("podman load (vfs, rootful)", () => {
  const podman = (...args: string[]) => run(["podman", "--root", p("podman/root"), "--runroot", p("podman/run"), "--storage-driver", "vfs", "--events-backend", "none", ...args]);

  test("loads every archive: names, image IDs and diff_ids as imgx wrote them", async () => {
    for (const a of archives) {
      const r = await podman("load", "-i", a.file);
      if (r.code !== 0) throw new Error(`podman load ${a.file}: ${r.stderr}`);
      const loaded = [...r.stdout.matchAll(/Loaded image: (\S+)/g)].map((m) => m[1]!);
      for (const img of a.images) {
        for (const name of img.names) {
          // podman qualifies short names with docker.io/ for one image, localhost/ when an archive holds several (its own quirk)
          const as = loaded.find((l) => l === fullName(name) || l === `localhost/${name}`);
          expect(as).toBeDefined();
          const ins = await podman("image", "inspect", as!);
          if (ins.code !== 0) throw new Error(`podman image inspect ${name}: ${ins.stderr}`);
          const [info] = JSON.parse(ins.stdout);
          expect(`sha256:${info.Id}`).toBe(img.config);
          expect(info.RootFS.Layers).toEqual(img.diffIds);
        }
      }
    }
  }, 120_000);
});

describe.skipIf(!ROOT)("containerd: ctr import", () => {
  const dir = p("containerd");
  const sock = join(dir, "containerd.sock");
  let proc: ReturnType<typeof Bun.spawn> | undefined;

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    // CRI off: no network plugin, no streaming port; only content, images and a native snapshotter
    writeFileSync(
      join(dir, "config.toml"),
      `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "${sock}"\n[ttrpc]\n  address = "${sock}.ttrpc"\n`,
    );
    proc = Bun.spawn(["containerd", "--config", join(dir, "config.toml")], { stdout: "ignore", stderr: Bun.file(join(dir, "log")) });
    for (let i = 0; ; i++) {
      if ((await run(["ctr", "-a", sock, "version"])).code === 0) break;
      if (proc.exitCode !== null || i > 100) throw new Error(`containerd did not start here: ${readFileSync(join(dir, "log"), "utf8").slice(-1500)}`);
      await Bun.sleep(100);
    }
  });
  afterAll(async () => {
    // only the containerd this file started, by its PID
    proc?.kill();
    await proc?.exited;
    await run(["umount", "-R", join(dir, "state")]);
  });

  test("imports every archive: names and manifest config as imgx wrote them, layers unpacked", async () => {
    for (const a of archives) {
      const r = await run(["ctr", "-a", sock, "-n", "imgx", "images", "import", "--all-platforms", "--snapshotter", "native", a.file]);
      if (r.code !== 0) throw new Error(`ctr import ${a.file}: ${r.stderr}`);
      for (const img of a.images)
        for (const name of img.names) {
          expect(r.stdout).toContain(`unpacking ${fullName(name)}`);
          // the manifest containerd stored names imgx's config; its layers are the diff_ids (uncompressed)
          const ls = await run(["ctr", "-a", sock, "-n", "imgx", "images", "ls", `name==${fullName(name)}`]);
          const digest = /sha256:[0-9a-f]{64}/.exec(ls.stdout.split("\n")[1] ?? "")?.[0];
          expect(digest).toBeDefined();
          const man = JSON.parse((await run(["ctr", "-a", sock, "-n", "imgx", "content", "get", digest!])).stdout);
          expect(man.config.digest).toBe(img.config);
          expect(man.layers.map((l: { digest: string }) => l.digest)).toEqual(img.diffIds);
        }
    }
  }, 120_000);
});
