import { expect, test } from "bun:test";
import { parseSyncConfig } from "../../src/app/sync-config.ts";
import { parseSyncEndpoint, planSync, splitBundleName, targetRepo } from "../../src/app/sync-plan.ts";

test("endpoints: registry host, repository, one tag, bundle; bad ones are usage errors", () => {
  expect(parseSyncEndpoint("localhost:5000", "source")).toEqual({ kind: "registry", registry: "localhost:5000", input: "localhost:5000" });
  expect(parseSyncEndpoint("docker://r.example.com/team/app", "source")).toMatchObject({ kind: "registry", registry: "r.example.com", path: "team/app", tag: undefined });
  expect(parseSyncEndpoint("r.example.com/team/app:1.2", "source")).toMatchObject({ path: "team/app", tag: "1.2" });
  expect(parseSyncEndpoint("oci:/media/usb/bundle", "destination")).toMatchObject({ kind: "bundle", path: "/media/usb/bundle" });
  expect(parseSyncEndpoint("./bundle", "source")).toMatchObject({ kind: "bundle", path: "./bundle" });
  expect(() => parseSyncEndpoint("r.example.com/team/app:1", "destination")).toThrow(/without a tag/);
  expect(() => parseSyncEndpoint("myhost", "source")).toThrow(/has a dot or a port/);
  expect(() => parseSyncEndpoint("r.example.com/a@sha256:" + "a".repeat(64), "source")).toThrow(/not a digest/);
  expect(() => parseSyncEndpoint("docker-archive:x.tar", "source")).toThrow(/OCI layout directories/);
});

test("targets: a repository to a repository keeps the given name; a registry or bundle keeps paths under a prefix", () => {
  const ep = (s: string, r: "source" | "destination") => parseSyncEndpoint(s, r);
  expect(targetRepo({ src: ep("a.io/team/app", "source"), dst: ep("b.io/mirror/app2", "destination") }, "team/app")).toBe("mirror/app2");
  expect(targetRepo({ src: ep("a.io/team/app", "source"), dst: ep("b.io", "destination") }, "team/app")).toBe("team/app");
  expect(targetRepo({ src: ep("a.io", "source"), dst: ep("b.io/mirror", "destination") }, "team/app")).toBe("mirror/team/app");
  expect(targetRepo({ src: ep("oci:/x", "source"), dst: ep("b.io", "destination") }, "team/app")).toBe("team/app");
  expect(splitBundleName("team/app:1.2")).toEqual({ repo: "team/app", tag: "1.2" });
  expect(splitBundleName("1.2")).toBeUndefined();
});

test("plan: plain --repo names skip the catalog; regexes filter it; tags filtered per repository", async () => {
  let catalogCalls = 0;
  const from = {
    catalog: async () => (catalogCalls++, ["team/app", "team/db", "other/x"]),
    tags: async (_r: string, repo: string) => (repo === "team/app" ? ["1.0", "1.2", "2.0", "latest"] : ["9"]),
    bundle: async () => {
      throw new Error("no bundle");
    },
  };
  const src = parseSyncEndpoint("a.io", "source");
  const dst = parseSyncEndpoint("b.io/m", "destination");
  const named = await planSync({ src, dst, repos: ["team/app"], tags: { semver: ">=1.1" } }, from);
  expect(catalogCalls).toBe(0);
  expect(named.map((t) => `${t.srcRepo}:${t.tag}>${t.dstRepo}`)).toEqual(["team/app:1.2>m/team/app", "team/app:2.0>m/team/app"]);
  const all = await planSync({ src, dst, repos: ["team/.*"] }, from);
  expect(catalogCalls).toBe(1);
  expect(all.map((t) => `${t.srcRepo}:${t.tag}`)).toEqual(["team/app:1.0", "team/app:1.2", "team/app:2.0", "team/app:latest", "team/db:9"]);
  await expect(planSync({ src: parseSyncEndpoint("a.io/team/app", "source"), dst, repos: ["x"] }, from)).rejects.toThrow(/--repo/);
});

test("sync.yaml: regsync's allow/deny and skopeo's regex/semver; numbers and unknown keys refused", () => {
  const entries = parseSyncConfig(
    'defaults:\n  referrers: true\nsync:\n  - source: a.io/team/app\n    target: b.io/team/app\n    tags:\n      allow: ["1\\\\..*"]\n      deny: [".*-rc.*"]\n      semver: ">=1.2"\n      latest: 2\n    platforms: [linux/amd64, linux/arm64]\n  - source: a.io\n    target: oci:/bundle\n    repos: team/.*\n',
    "sync.yaml",
  );
  expect(entries[0]).toMatchObject({ src: "a.io/team/app", dst: "b.io/team/app", tags: { regex: ["1\\..*"], exclude: [".*-rc.*"], semver: ">=1.2", latest: 2 }, referrers: true });
  expect(entries[0]!.platforms).toMatchObject({ all: false, platforms: [{ architecture: "amd64" }, { architecture: "arm64" }] });
  expect(entries[1]).toMatchObject({ src: "a.io", dst: "oci:/bundle", repos: ["team/.*"], platforms: { all: true } });
  expect(() => parseSyncConfig("sync:\n  - source: a.io/x\n    target: b.io/x\n    tags:\n      allow: [1.10]\n", "s.yaml")).toThrow(/1.1 is a number; quote it/);
  expect(() => parseSyncConfig("sync:\n  - source: a.io/x\n    targte: b.io/x\n", "s.yaml")).toThrow(/unknown key "targte"/);
  expect(() => parseSyncConfig("sync: []\n", "s.yaml")).toThrow(/non-empty list/);
  expect(() => parseSyncConfig("sync: [\n", "s.yaml")).toThrow(/Cannot read "s.yaml"/);
});

test("the sync.yaml example in the README parses", async () => {
  const readme = await Bun.file(new URL("../../README.md", import.meta.url).pathname).text();
  const yaml = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(yaml).toBeDefined();
  const entries = parseSyncConfig(yaml!, "README.md");
  expect(entries.length).toBe(2);
  expect(entries[0]!.tags?.regex).toEqual(["1\\..*"]);
});
