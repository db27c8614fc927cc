// imgx serve pushing every platform of a multi-platform archive as one index, through the JSON API
// (the page's own archive reader and request bodies, run in Bun): what skopeo then reads, and what
// the server refuses (a child manifest naming a layer never uploaded, a missing CSRF token) with
// nothing tagged and no child manifest written.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { skopeo } from "../harness/skopeo.ts";
import { tempDir } from "../helpers/imgx.ts";
import { call, csrfOf, pushIndexViaApi, startServe, type Serve } from "../helpers/serve.ts";
import { multiPlatformDocker25, multiPlatformOci, sameTagSave } from "../../fixtures/multi-platform.ts";
// @ts-ignore: the page's browser module (plain JS)
import { readArchive } from "../../src/serve/page/archive.js";
// @ts-ignore: the page's browser module (plain JS)
import { choicesOf } from "../../src/serve/page/platforms.js";

let reg: RunningRegistry;
let s: Serve;
let csrf: string;
const tmp = tempDir("imgx-serve-index-");
const ociTar = join(tmp.dir, "multi-platform-oci.tar");
const dockerTar = join(tmp.dir, "multi-platform-docker25.tar");
const sameTag = join(tmp.dir, "same-tag-save.tar");

async function manifestStatus(repo: string, ref: string): Promise<number> {
  const accept = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"].join(", ");
  const r = await fetch(`${reg.url}/v2/${repo}/manifests/${ref}`, { method: "HEAD", headers: { accept } });
  return r.status;
}

const raw = async (ref: string) => JSON.parse(await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/${ref}`]));

beforeAll(async () => {
  await multiPlatformOci(ociTar);
  await multiPlatformDocker25(dockerTar);
  await sameTagSave(sameTag);
  reg = await startRegistry("open");
  s = await startServe(["--registry", reg.host]);
  csrf = await csrfOf(s);
}, 60_000);

afterAll(async () => {
  await s?.stop();
  await reg?.stop();
  tmp.cleanup();
});

describe("imgx serve: all platforms as one index", () => {
  test("the page's reader offers all platforms of the OCI archive (attestation skipped) and of the Docker 25+ save (never-pulled platform left out)", async () => {
    const oci = choicesOf(await readArchive(Bun.file(ociTar)));
    expect(oci.map((c: any) => (c.kind === "all" ? `all ${c.form} ${c.images.map((i: any) => i.platform).join(",")}` : `one ${c.image.platform}`))).toEqual(["all oci linux/amd64,linux/arm64/v8", "one linux/amd64", "one linux/arm64/v8"]);
    const d25 = choicesOf(await readArchive(Bun.file(dockerTar)));
    expect(d25[0].kind).toBe("all");
    expect(d25[0].form).toBe("docker");
    expect(d25[0].names).toEqual(["docker.io/library/mp:3"]);
    expect(d25[0].images.map((i: any) => i.platform)).toEqual(["linux/amd64", "linux/arm64/v8"]);
    expect(d25[0].skipped).toEqual(["linux/s390x"]);
    expect(d25.length).toBe(3);
  });

  test("OCI archive: shared layer sent once, each platform's manifest by digest, OCI index (variant kept) under the tag", async () => {
    const r = await pushIndexViaApi(s, ociTar, "idx/oci:1", { csrf });
    expect(r.status).toBe(200);
    // three distinct layers for two platforms of two layers each: the shared one went once
    expect(r.steps).toEqual(["uploaded 0", "uploaded 1", "uploaded 2"]);
    const index = await raw("idx/oci:1");
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(index.manifests.map((m: any) => m.platform)).toEqual([
      { architecture: "amd64", os: "linux" },
      { architecture: "arm64", os: "linux", variant: "v8" },
    ]);
    expect(`sha256:${new Bun.CryptoHasher("sha256").update(await skopeo(["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/idx/oci:1`])).digest("hex")}`).toBe(r.body.digest);
    expect(r.body.manifests.map((m: any) => m.digest)).toEqual(index.manifests.map((m: any) => m.digest));
    const [amd, arm] = await Promise.all(index.manifests.map((m: any) => raw(`idx/oci@${m.digest}`)));
    expect(amd.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(amd.layers[0].digest).toBe(arm.layers[0].digest);
    expect(amd.layers[1].digest).not.toBe(arm.layers[1].digest);
    const cfg = JSON.parse(await skopeo(["inspect", "--config", "--override-arch", "arm64", "--tls-verify=false", `docker://${reg.host}/idx/oci:1`]));
    expect(cfg.architecture).toBe("arm64");
    expect(cfg.config.Labels["org.example.fixture"]).toBe("mp-arm64");
    expect(r.body.pull).toContain(`imgx pull --platform linux/arm64/v8 ${reg.host}/idx/oci:1`);
    // pushed again: every layer is found in the registry, the same index digest comes out
    const again = await pushIndexViaApi(s, ociTar, "idx/oci:2", { csrf });
    expect(again.status).toBe(200);
    expect(again.steps.every((x) => x.startsWith("present"))).toBe(true);
    expect(again.body.digest).toBe(r.body.digest);
  }, 60_000);

  test("Docker 25+ save: a docker manifest list of docker manifests, without the platform the archive lacks", async () => {
    const r = await pushIndexViaApi(s, dockerTar, "idx/d25:3", { csrf });
    expect(r.status).toBe(200);
    const list = await raw("idx/d25:3");
    expect(list.mediaType).toBe("application/vnd.docker.distribution.manifest.list.v2+json");
    expect(list.manifests.map((m: any) => `${m.mediaType} ${[m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join("/")}`)).toEqual([
      "application/vnd.docker.distribution.manifest.v2+json linux/amd64",
      "application/vnd.docker.distribution.manifest.v2+json linux/arm64/v8",
    ]);
    const cfg = JSON.parse(await skopeo(["inspect", "--config", "--override-arch", "arm64", "--tls-verify=false", `docker://${reg.host}/idx/d25:3`]));
    expect(cfg.architecture).toBe("arm64");
  }, 60_000);

  test("docker-save entries sharing their RepoTags: uncompressed layers gzipped by the server, the shared one once, a docker manifest list", async () => {
    const r = await pushIndexViaApi(s, sameTag, "idx/legacy:1", { csrf });
    expect(r.status).toBe(200);
    expect(r.steps).toEqual(["uploaded 0", "uploaded 1", "uploaded 2"]);
    const list = await raw("idx/legacy:1");
    expect(list.mediaType).toBe("application/vnd.docker.distribution.manifest.list.v2+json");
    expect(list.manifests.map((m: any) => m.platform)).toEqual([
      { architecture: "amd64", os: "linux" },
      { architecture: "arm64", os: "linux", variant: "v8" },
    ]);
    const [img] = (await readArchive(Bun.file(sameTag))).filter((i: any) => i.platform === "linux/arm64/v8");
    const cfg = JSON.parse(await skopeo(["inspect", "--config", "--override-arch", "arm64", "--tls-verify=false", `docker://${reg.host}/idx/legacy:1`]));
    expect(cfg.rootfs.diff_ids).toEqual(img.config.rootfs.diff_ids);
    const arm = await raw(`idx/legacy@${list.manifests[1].digest}`);
    expect(arm.layers.map((l: any) => l.mediaType)).toEqual(["application/vnd.docker.image.rootfs.diff.tar.gzip", "application/vnd.docker.image.rootfs.diff.tar.gzip"]);
  }, 60_000);

  test("a platform naming a layer never uploaded: refused, no child manifest written, nothing tagged", async () => {
    const ghost = `sha256:${"0".repeat(63)}1`;
    const r = await pushIndexViaApi(s, ociTar, "idx/ghost:1", {
      csrf,
      edit: (body) => {
        const layer = body.manifests[1].layers[1];
        Object.assign(layer, { expect: ghost, digest: ghost, gzipped: false });
      },
    });
    expect(r.status).toBe(409);
    expect(r.body.error).toContain("linux/arm64/v8");
    expect(r.body.error).toContain("not in the registry");
    expect(await manifestStatus("idx/ghost", "1")).toBe(404);
    // the good amd64 manifest (same bytes as pushed elsewhere) was not written into this repository either
    const good = await raw("idx/oci:1");
    expect(await manifestStatus("idx/ghost", good.manifests[0].digest)).toBe(404);
    expect(await manifestStatus("idx/oci", good.manifests[0].digest)).toBe(200);
  }, 60_000);

  test("the same platform twice is refused, nothing tagged", async () => {
    const r = await pushIndexViaApi(s, ociTar, "idx/twice:1", { csrf, edit: (body) => (body.manifests[1].platform = { ...body.manifests[0].platform }) });
    expect(r.status).toBe(400);
    expect(r.body.error).toContain("listed twice");
    expect(await manifestStatus("idx/twice", "1")).toBe(404);
  }, 60_000);

  test("without the CSRF token (or from another origin) the index is refused; with it, the same body is tagged", async () => {
    const body = (await pushIndexViaApi(s, ociTar, "idx/csrf:1", { csrf, dryRun: true })).body;
    expect((await call(s, "POST", "/api/commit-index", body, { csrf: null })).status).toBe(403);
    expect((await call(s, "POST", "/api/commit-index", body, { csrf: "0".repeat(64) })).status).toBe(403);
    const foreign = await fetch(new URL("/api/commit-index", s.url), { method: "POST", headers: { "content-type": "application/json", "x-csrf-token": csrf, origin: "http://evil.example" }, body: JSON.stringify(body) });
    expect(foreign.status).toBe(403);
    expect(await manifestStatus("idx/csrf", "1")).toBe(404);
    const ok = await call(s, "POST", "/api/commit-index", body, { csrf });
    expect(ok.status).toBe(200);
    expect(await manifestStatus("idx/csrf", "1")).toBe(200);
  }, 60_000);

  test("a registry this server may not use is refused", async () => {
    const body = (await pushIndexViaApi(s, ociTar, "idx/x:1", { csrf, dryRun: true })).body;
    const r = await call(s, "POST", "/api/commit-index", { ...body, reference: "other.example:5000/idx/x:1" }, { csrf });
    expect(r.status).toBe(403);
    expect(r.body.code).toBe("DENIED");
  }, 60_000);
});
