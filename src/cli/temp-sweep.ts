import { readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SPOOL_PREFIX } from "../storage/spool.ts";

/**
 * Library code removes its temp files when the work ends; an exit in the middle (Ctrl-C's 3 s
 * limit, a second Ctrl-C) skips that. This sweeps what this process left, on any exit.
 */
export function sweepTempOnExit(): void {
  process.on("exit", () => {
    const mine = `${SPOOL_PREFIX}${process.pid}-`;
    try {
      for (const name of readdirSync(tmpdir())) if (name.startsWith(mine)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
    } catch {
      /* nothing to sweep */
    }
  });
}
