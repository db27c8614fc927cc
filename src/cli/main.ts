import { cac, type CAC } from "cac";
import { isImgxError } from "../core/errors.ts";
import { closest } from "./argv.ts";
import { registerCompletion } from "./commands/completion.ts";
import { registerBench } from "./commands/bench.ts";
import { registerConvert } from "./commands/convert.ts";
import { registerCopy } from "./commands/copy.ts";
import { registerHousekeeping } from "./commands/housekeeping.ts";
import { registerInspect } from "./commands/inspect.ts";
import { registerPull } from "./commands/pull.ts";
import { registerPush } from "./commands/push.ts";
import { registerRegistryCommands } from "./commands/registry-info.ts";
import { registerServe } from "./commands/serve.ts";
import { registerSync } from "./commands/sync.ts";
import type { CliContext } from "./context.ts";
import { EXIT, exitCodeFor } from "./exit-codes.ts";
import { versionLine } from "./version.ts";

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v" || argv[0] === "version")) {
    process.stdout.write(`${versionLine()}\n`);
    return EXIT.ok;
  }
  const debugOn = argv.includes("--debug");
  const cli = cac("imgx");
  const ctx: CliContext = { cli, argv, debug: debugOn ? (l) => process.stderr.write(`debug: ${l}\n`) : undefined };
  registerConvert(ctx);
  registerPull(ctx);
  registerPush(ctx);
  registerCopy(ctx);
  registerInspect(ctx);
  registerRegistryCommands(ctx);
  registerHousekeeping(ctx);
  registerBench(ctx);
  registerServe(ctx);
  registerSync(ctx);
  registerCompletion(ctx);
  cli.help();
  if (argv[0] === "help") argv = argv.length > 1 ? [argv[1]!, "--help"] : ["--help"];
  try {
    cli.parse(["imgx", "imgx", ...pinBooleans(cli, argv)], { run: false });
    if (!cli.matchedCommand) {
      if (cli.options.help) return EXIT.ok;
      if (argv.length === 0) {
        cli.outputHelp();
        return EXIT.usage;
      }
      const names = cli.commands.map((c) => c.name).filter(Boolean);
      const guess = closest(argv[0]!, names);
      process.stderr.write(`imgx: unknown command ${JSON.stringify(argv[0])}${guess ? `; did you mean "${guess}"?` : ""} (see imgx --help)\n`);
      return EXIT.usage;
    }
    if (cli.options.help) return EXIT.ok;
    // a command may return its own exit status (bench: 130 after Ctrl-C, 5 at --max-errors)
    const status: unknown = await cli.runMatchedCommand();
    return typeof status === "number" ? status : EXIT.ok;
  } catch (e) {
    return reportError(e, ctx, debugOn);
  }
}

/**
 * cac's parser only knows camel-cased boolean names, so `--all-platforms X` would swallow X as the
 * flag's value. Spelling declared kebab-case booleans as `--flag=true` keeps positionals intact.
 */
function pinBooleans(cli: CAC, argv: string[]): string[] {
  const booleans = new Set(
    [...cli.commands, cli.globalCommand].flatMap((c) => c.options).filter((o) => !/[<[]/.test(o.rawName)).flatMap((o) => o.rawName.split(",").map((n) => n.trim())).filter((n) => /^--\w+-/.test(n)),
  );
  const dd = argv.indexOf("--");
  // a bare "-" (stdin) would be taken for an option by cac: name it as the transport it means
  return argv.map((a, i) => (booleans.has(a) && (dd < 0 || i < dd) ? `${a}=true` : a === "-" ? "docker-archive:-" : a));
}

function reportError(e: unknown, ctx: CliContext, debugOn: boolean): number {
  if (isImgxError(e)) {
    process.stderr.write(`imgx: ${e.message}${e.hint ? ` (${e.hint})` : ""}\n`);
    if (debugOn) printCauses(e);
    return exitCodeFor(e.code);
  }
  const err = e as Error;
  if (err?.name === "CACError") {
    const m = /Unknown option `(-{1,2})([^`]+)`/.exec(err.message);
    let hint = "";
    if (m) {
      const cmd = ctx.cli.matchedCommand;
      const opts = [...(cmd?.options ?? []), ...ctx.cli.globalCommand.options].flatMap((o) => o.names).filter((n) => n.length > 1);
      const kebab = m[2]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      const guess = closest(kebab, opts.map((n) => n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)));
      if (guess) hint = `; did you mean --${guess}?`;
      process.stderr.write(`imgx: unknown option ${m[1]}${kebab}${hint} (see imgx ${cmd?.name ?? ""} --help)\n`);
    } else process.stderr.write(`imgx: ${err.message} (see imgx --help)\n`);
    return EXIT.usage;
  }
  process.stderr.write(`imgx: unexpected error: ${err?.message ?? String(e)}\n`);
  if (debugOn && err?.stack) process.stderr.write(`${err.stack}\n`);
  return EXIT.failure;
}

function printCauses(e: Error): void {
  let c: unknown = e.cause;
  while (c) {
    process.stderr.write(`  caused by: ${(c as Error).message ?? String(c)}\n`);
    c = (c as Error).cause;
  }
}
