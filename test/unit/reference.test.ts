import { describe, expect, test } from "bun:test";
import { familiarName, formatReference, parseDockerReference, parseRepository, parseImageName } from "../../src/core/reference.ts";
import { isImgxError } from "../../src/core/errors.ts";

const D = "sha256:" + "a".repeat(64);

describe("parseDockerReference", () => {
  test.each([
    ["alpine", "docker.io", "library/alpine", "latest", undefined],
    ["alpine:3.20", "docker.io", "library/alpine", "3.20", undefined],
    ["docker.io/alpine", "docker.io", "library/alpine", "latest", undefined],
    ["index.docker.io/library/alpine:1", "docker.io", "library/alpine", "1", undefined],
    ["user/app:v1", "docker.io", "user/app", "v1", undefined],
    ["localhost/app", "localhost", "app", "latest", undefined],
    ["localhost:5000/a/b/c:1.10", "localhost:5000", "a/b/c", "1.10", undefined],
    ["registry.example.com/team/app:1.2", "registry.example.com", "team/app", "1.2", undefined],
    [`host:5000/a/b@${D}`, "host:5000", "a/b", undefined, D],
    [`host:5000/a/b:tag@${D}`, "host:5000", "a/b", "tag", D],
    ["[::1]:5000/app:1", "[::1]:5000", "app", "1", undefined],
    ["docker://127.0.0.1:5000/x_y.z-w:t", "127.0.0.1:5000", "x_y.z-w", "t", undefined],
  ])("%s", (input, registry, repository, tag, digest) => {
    const r = parseDockerReference(input);
    expect(r).toEqual({ registry, repository, tag, digest } as never);
  });

  test.each([
    ["", "empty"],
    ["Alpine", "lowercase"],
    ["app:", "tag"],
    ["app:-bad", "tag"],
    ["a//b", "empty path component"],
    ["app@sha256:123", "sha256"],
    ["app@md5:" + "a".repeat(32), "only sha256"],
    ["host:99x/app", "registry host"],
    ["a/" + "b".repeat(260), "255"],
    ["app__x--y.", "not a valid repository"],
  ])("rejects %s (%s)", (input, reason) => {
    try {
      parseDockerReference(input);
      throw new Error("accepted");
    } catch (e) {
      expect(isImgxError(e, "BAD_REFERENCE")).toBe(true);
      expect((e as Error).message).toContain(reason);
      expect((e as Error).message).not.toContain("\n");
    }
  });

  test("format and familiar names", () => {
    expect(formatReference(parseDockerReference("alpine"))).toBe("docker.io/library/alpine:latest");
    expect(familiarName(parseDockerReference("alpine:3"))).toBe("alpine:3");
    expect(familiarName(parseDockerReference("localhost:5000/a:1"))).toBe("localhost:5000/a:1");
  });

  test("repositories and image names", () => {
    expect(parseRepository("localhost:5000/a/b").repository).toBe("a/b");
    expect(() => parseRepository("a:1")).toThrow("without tag");
    expect(parseImageName("1.2")).toEqual({ given: "1.2", tag: "1.2" });
    expect(parseImageName("app:1.2").ref?.repository).toBe("library/app");
    expect(parseImageName("host:5000/app:9").tag).toBe("9");
  });
});
