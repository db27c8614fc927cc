// Bun's fetch keeps at most 256 requests in flight unless BUN_CONFIG_MAX_HTTP_REQUESTS is set
// before the process starts (setting it at run time does nothing, measured). A bench that needs
// more runs itself again with it set, forwarding Ctrl-C, and exits with the child's status.
const BUN_DEFAULT = 256;

/** undefined: carry on in this process; a number: the re-run child's exit status. */
export async function reexecForInFlight(inFlight: number): Promise<number | undefined> {
  if (inFlight <= BUN_DEFAULT || process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) return undefined;
  // compiled: process.execPath is imgx itself; from source: bun + the entry script
  const script = Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:\\~BUN") ? [] : [Bun.main];
  const child = Bun.spawn([process.execPath, ...script, ...process.argv.slice(2)], {
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: String(Math.min(65_535, inFlight + 64)) },
    stdio: ["inherit", "inherit", "inherit"],
  });
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  try {
    const code = await child.exited;
    return child.signalCode ? 128 + (child.signalCode === "SIGINT" ? 2 : 15) : code;
  } finally {
    process.off("SIGINT", forward);
    process.off("SIGTERM", forward);
  }
}
