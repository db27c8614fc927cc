// Cross-repository mounts under token auth: the token must carry pull on the source repository
// too, and a mount the registry refuses for lack of it (Harbor answers 401, crane#1393) is "upload
// it instead", never a failed push.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseDockerReference } from "../../src/core/reference.ts";
import { openRegistrySink } from "../../src/transports/registry/index.ts";
import type { ImageSink, RegistryOptions } from "../../src/transports/types.ts";
import { loggedRequests } from "../harness/access-log.ts";
import { blobInput } from "../helpers/blob-input.ts";
import { startRegistry, type RunningRegistry } from "../harness/registry.ts";
import { skopeoInspectDigest } from "../harness/skopeo.ts";
import { tinyImage, type TinyImage } from "../harness/tiny-image.ts";
import { parseImageName } from "../../src/core/reference.ts";

const alice = { name: "alice", password: "wonderland-secret-42" };
const bob = { name: "bob", password: "builder-secret-17" };
let reg: RunningRegistry;

beforeAll(async () => {
  reg = await startRegistry("token", {
    users: [alice, bob],
    // alice may do anything; bob only works in bob/…, and asking for locked/… gets him a 403
    tokenPolicy: (user, repo, wanted) =>
      user === "alice" || (user === "bob" && repo.startsWith("bob/")) ? wanted.filter((a) => a === "pull" || a === "push") : repo.startsWith("locked/") ? null : [],
  });
}, 30_000);
afterAll(async () => {
  await reg?.stop();
});

const sinkFor = (repo: string, u: { name: string; password: string }, opts: RegistryOptions = {}) =>
  openRegistrySink(parseDockerReference(`${reg.host}/${repo}`), { retries: 0, timeoutMs: 10_000, username: u.name, password: u.password, ...opts });

async function pushImage(sink: ImageSink, img: TinyImage, tag: string): Promise<void> {
  for (const b of img.blobs) if (!(await sink.hasBlob(b))) await sink.putBlob(blobInput(b.bytes, { mediaType: b.mediaType }));
  await sink.putManifest(img.manifest, img.manifest.bytes, [tag].map(parseImageName), true);
}

describe("registry sink mounts with token auth", () => {
  test("a mount asks for pull on the source repository and gets 201", async () => {
    const img = tinyImage({ seed: "mount-token" });
    await pushImage(await sinkFor("team/src", alice), img, "1");
    const sink = await sinkFor("team/dst", alice);
    const before = reg.tokenServer!.requests.length;
    expect(await sink.mountBlob!(img.layer, { registry: reg.host, repository: "team/src" })).toBe(true);
    const asked = reg.tokenServer!.requests.slice(before);
    expect(asked.some((r) => r.scopes.includes("repository:team/dst:pull,push") && r.scopes.includes("repository:team/src:pull"))).toBe(true);
    expect(await sink.hasBlob(img.layer)).toBe(true);
  }, 30_000);

  test("a mount refused for lack of pull on the source (401) is false, and the upload that follows works", async () => {
    const img = tinyImage({ seed: "mount-denied" });
    await pushImage(await sinkFor("team/secret", alice), img, "1");
    const sink = await sinkFor("bob/app", bob);
    expect(await sink.mountBlob!(img.layer, { registry: reg.host, repository: "team/secret" })).toBe(false);
    // the registry really refused it (not a request we never sent)
    const mounts = loggedRequests(reg.logPath).filter((r) => r.method === "POST" && r.uri.includes("mount=") && r.uri.startsWith("/v2/bob/app/"));
    expect(mounts.length).toBeGreaterThanOrEqual(1);
    expect(mounts.every((r) => r.status === 401)).toBe(true);
    expect(reg.tokenServer!.requests.some((r) => r.user === "bob" && r.granted.includes("team/secret:"))).toBe(true);
    // the fallback: bob uploads the blob himself
    await pushImage(sink, img, "1");
    expect(await skopeoInspectDigest(`${reg.host}/bob/app:1`, { creds: `${bob.name}:${bob.password}` })).toBe(img.manifest.digest);
  }, 30_000);

  test("a token server refusing the source scope outright (403) is a refused mount too, not a failed push", async () => {
    const img = tinyImage({ seed: "mount-locked" });
    await pushImage(await sinkFor("locked/src", alice), img, "1");
    const sink = await sinkFor("bob/locked-copy", bob);
    expect(await sink.mountBlob!(img.layer, { registry: reg.host, repository: "locked/src" })).toBe(false);
    expect(reg.tokenServer!.requests.some((r) => r.user === "bob" && r.scopes.includes("repository:locked/src:pull") && r.granted.length === 0)).toBe(true);
    await pushImage(sink, img, "1");
    expect(await skopeoInspectDigest(`${reg.host}/bob/locked-copy:1`, { creds: `${bob.name}:${bob.password}` })).toBe(img.manifest.digest);
    // a wrong password still fails the push itself (on the upload after the refused mount)
    const bad = await sinkFor("bob/other", { ...bob, password: "wrong-password-3" });
    expect(await bad.mountBlob!(img.layer, { registry: reg.host, repository: "locked/src" })).toBe(false);
    const err = await bad.putBlob(blobInput(img.layer.bytes)).catch((e) => e);
    expect(err.code).toBe("UNAUTHORIZED");
    expect(err.message).not.toContain("wrong-password-3");
  }, 30_000);
});
