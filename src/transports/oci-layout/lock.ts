import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ImgxError, q } from "../../core/errors.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes `<dir>/.imgx-lock` so two imgx processes never write one layout; a dead owner's lock is taken over. */
export function lockLayout(dir: string): () => void {
  const path = join(dir, ".imgx-lock");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new ImgxError("IO", `Cannot lock ${q(dir)}: ${(e as Error).message}`);
      let owner: number;
      let age: number;
      try {
        owner = Number(readFileSync(path, "utf8").trim());
        age = Date.now() - statSync(path).mtimeMs;
      } catch {
        continue; // released meanwhile: try again
      }
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner))
        throw new ImgxError("LOCKED", `Cannot write OCI layout ${q(dir)}: imgx process ${owner} is writing it`, { hint: `wait for it, or remove ${path} if that process is gone` });
      // No pid yet: another process created the lock a moment ago and is about to write its pid.
      if (!(Number.isInteger(owner) && owner > 0) && age < 10_000)
        throw new ImgxError("LOCKED", `Cannot write OCI layout ${q(dir)}: another process has just locked it`, { hint: `wait for it, or remove ${path} if no imgx is running` });
      rmSync(path, { force: true });
    }
  }
  throw new ImgxError("LOCKED", `Cannot lock ${q(dir)}: lock file keeps reappearing`);
}
