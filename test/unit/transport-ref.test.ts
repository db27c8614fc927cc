import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseTransportRef } from "../../src/transports/parse.ts";
import { tempDir } from "../helpers/imgx.ts";

const t = tempDir();
afterAll(t.cleanup);

describe("transport references", () => {
  test("prefixes", () => {
    expect(parseTransportRef("oci:/x/y:1.2")).toMatchObject({ kind: "oci", path: "/x/y", name: "1.2" });
    expect(parseTransportRef("oci:/x/y")).toMatchObject({ kind: "oci", path: "/x/y", name: undefined });
    expect(parseTransportRef("docker-archive:/a/b.tar:app:1.0")).toMatchObject({ kind: "docker-archive", path: "/a/b.tar", name: "app:1.0" });
    expect(parseTransportRef("docker-archive:/a/b.tar:localhost:5000/app:1.0")).toMatchObject({ path: "/a/b.tar", name: "localhost:5000/app:1.0" });
    expect(parseTransportRef("oci-archive:rel/f.tar")).toMatchObject({ kind: "oci-archive", path: "rel/f.tar" });
    expect(parseTransportRef("docker://alpine")).toMatchObject({ kind: "docker", ref: { registry: "docker.io", repository: "library/alpine", tag: "latest" } });
    expect(parseTransportRef("localhost:5000/a:1")).toMatchObject({ kind: "docker", ref: { registry: "localhost:5000" } });
  });

  test("bare paths are sniffed by content", () => {
    const layout = join(t.dir, "layout");
    mkdirSync(layout);
    writeFileSync(join(layout, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    expect(parseTransportRef(layout).kind).toBe("oci");
    const plain = join(t.dir, "plain");
    mkdirSync(plain);
    expect(() => parseTransportRef(plain)).toThrow("not an OCI layout");
    expect(() => parseTransportRef(join(t.dir, "missing.tar"))).toThrow("no such file");
    expect(parseTransportRef(join(t.dir, "new.tar"), { forWrite: true }).kind).toBe("docker-archive");
    expect(parseTransportRef(join(t.dir, "newdir"), { forWrite: true }).kind).toBe("oci");
    expect(parseTransportRef(join(t.dir, "newdir"), { forWrite: true, defaultLocal: "oci-archive" }).kind).toBe("oci-archive");
  });
});
