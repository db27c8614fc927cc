// The layout lock between its O_EXCL creation and the pid being written.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isImgxError } from "../../src/core/errors.ts";
import { lockLayout } from "../../src/transports/oci-layout/lock.ts";
import { tempDir } from "../helpers/imgx.ts";

const t = tempDir("imgx-lock-");
afterAll(t.cleanup);

test("a lock created a moment ago with no pid yet is held, not taken over", () => {
  const dir = join(t.dir, "fresh");
  mkdirSync(dir);
  writeFileSync(join(dir, ".imgx-lock"), "");
  let err: unknown;
  try {
    lockLayout(dir);
  } catch (e) {
    err = e;
  }
  expect(isImgxError(err, "LOCKED")).toBe(true);
  expect((err as Error).message).toContain(dir);
  expect(readFileSync(join(dir, ".imgx-lock"), "utf8")).toBe("");
});

test("an old lock with no pid (its writer died before writing it) is taken over and released", () => {
  const dir = join(t.dir, "old");
  mkdirSync(dir);
  const lock = join(dir, ".imgx-lock");
  writeFileSync(lock, "");
  const past = new Date(Date.now() - 60_000);
  utimesSync(lock, past, past);
  const unlock = lockLayout(dir);
  expect(readFileSync(lock, "utf8")).toBe(String(process.pid));
  unlock();
  expect(existsSync(lock)).toBe(false);
});
