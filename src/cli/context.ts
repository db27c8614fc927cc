import type { CAC } from "cac";

/** What each command module gets: the cac instance and the raw argv (for uncoerced option values). */
export interface CliContext {
  cli: CAC;
  argv: string[];
  /** Debug trace sink when --debug is set (secrets are redacted by the registry layer). */
  debug?: (line: string) => void;
  /** The password read by --password-stdin (stdin can be read only once per process). */
  stdinPassword?: string;
}
