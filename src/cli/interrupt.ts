import { EXIT } from "./exit-codes.ts";

/**
 * Ctrl-C / SIGTERM as an AbortSignal: the work in progress cleans up (temp dirs go, resumable
 * partial downloads stay), then the process exits 130 like a shell would. A second signal, or
 * cleanup taking over 3 s, exits at once.
 */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const ctl = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (ctl.signal.aborted) process.exit(EXIT.interrupted);
    process.stderr.write(`\nimgx: interrupted (${sig}); cleaning up\n`);
    ctl.abort(Object.assign(new Error(`interrupted by ${sig}`), { name: "AbortError" }));
    setTimeout(() => process.exit(EXIT.interrupted), 3000).unref();
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: ctl.signal,
    dispose: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
      if (ctl.signal.aborted) process.exit(EXIT.interrupted);
    },
  };
}
