import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../../storage/atomic.ts";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { ImgxError, q } from "../../core/errors.ts";
import type { RegistryOptions } from "../types.ts";
import type { Credentials } from "./auth.ts";

const HUB_KEY = "https://index.docker.io/v1/";
const HUB_NAMES = ["docker.io", "index.docker.io", "registry-1.docker.io"];

export function dockerConfigPath(): string {
  return join(process.env.DOCKER_CONFIG || join(homedir(), ".docker"), "config.json");
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

/** Writes config.json so a reader sees the old or the new file, never half of one; secrets → mode 0600. */
async function writeConfig(cfg: DockerConfig): Promise<void> {
  const p = dockerConfigPath();
  mkdirSync(dirname(p), { recursive: true });
  await writeFileAtomic(p, `${JSON.stringify(cfg, null, "\t")}\n`, 0o600);
}

function readConfig(): DockerConfig {
  const p = dockerConfigPath();
  if (!existsSync(p)) return {};
  try {
    return JSON.parse(readFileSync(p, "utf8")) as DockerConfig;
  } catch (e) {
    throw new ImgxError("USAGE", `Cannot read ${q(p)}: not valid JSON (${(e as Error).message})`);
  }
}

/** Keys a registry's credentials may be stored under (Docker Hub keeps its legacy URL). */
function keysFor(registry: string): string[] {
  if (HUB_NAMES.includes(registry)) return [HUB_KEY, ...HUB_NAMES, "https://registry-1.docker.io"];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

export function storeKey(registry: string): string {
  return HUB_NAMES.includes(registry) ? HUB_KEY : registry;
}

async function helper(name: string, verb: "get" | "store" | "erase", input: string): Promise<string> {
  const bin = `docker-credential-${name}`;
  // A configured-but-absent helper (credsStore "desktop" copied from a laptop) must not break anonymous pulls.
  const path = Bun.which(bin, { PATH: process.env.PATH ?? "" });
  if (!path && verb === "get") return "";
  if (!path) throw new ImgxError("UNAUTHORIZED", `Cannot use credential helper ${q(bin)}: not found on PATH`);
  // stderr ignored: never read, a piped one could fill and block a chatty helper
  const p = Bun.spawn([path, verb], { stdin: new Blob([input]), stdout: "pipe", stderr: "ignore" });
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  if (code !== 0) {
    if (verb === "get" && /not found/i.test(out)) return "";
    throw new ImgxError("UNAUTHORIZED", `Cannot ${verb} credentials with ${q(bin)}: it exited with status ${code}`);
  }
  return out;
}

/** Credentials for a registry: flags, then IMGX_USERNAME/IMGX_PASSWORD, then Docker's config.json. */
export async function lookupCredentials(registry: string, opts: RegistryOptions): Promise<Credentials | undefined> {
  if (opts.username && opts.password !== undefined) return { username: opts.username, password: opts.password };
  if (process.env.IMGX_USERNAME && process.env.IMGX_PASSWORD !== undefined) return { username: process.env.IMGX_USERNAME, password: process.env.IMGX_PASSWORD };
  const cfg = readConfig();
  const keys = keysFor(registry);
  const helperName = keys.map((k) => cfg.credHelpers?.[k]).find(Boolean) ?? cfg.credsStore;
  if (helperName) {
    for (const k of HUB_NAMES.includes(registry) ? [HUB_KEY] : [registry, `https://${registry}`]) {
      const out = await helper(helperName, "get", k);
      if (!out.trim()) continue;
      let v: { Username?: string; Secret?: string };
      try {
        v = JSON.parse(out);
      } catch {
        throw new ImgxError("UNAUTHORIZED", `Cannot use credential helper ${q(`docker-credential-${helperName}`)}: its answer is not JSON`);
      }
      if (v.Username && v.Secret !== undefined)
        return v.Username === "<token>" ? { username: "", password: "", identityToken: v.Secret } : { username: v.Username, password: v.Secret };
    }
  }
  for (const k of keys) {
    const a = cfg.auths?.[k];
    if (!a) continue;
    if (a.auth) {
      const dec = Buffer.from(a.auth, "base64").toString("utf8");
      const i = dec.indexOf(":");
      if (i > 0) return { username: dec.slice(0, i), password: dec.slice(i + 1), identityToken: a.identitytoken };
    }
    if (a.username && a.password !== undefined) return { username: a.username, password: a.password };
    if (a.identitytoken) return { username: "", password: "", identityToken: a.identitytoken };
  }
  return undefined;
}

/** Saves credentials the way docker login does (credsStore helper when configured), keeping other keys. */
export async function storeCredentials(registry: string, username: string, password: string): Promise<void> {
  const cfg = readConfig();
  const key = storeKey(registry);
  const helperName = cfg.credHelpers?.[key] ?? cfg.credsStore;
  cfg.auths ??= {};
  if (helperName) {
    await helper(helperName, "store", JSON.stringify({ ServerURL: key, Username: username, Secret: password }));
    cfg.auths[key] = {};
  } else cfg.auths[key] = { auth: Buffer.from(`${username}:${password}`).toString("base64") };
  await writeConfig(cfg);
}

export async function eraseCredentials(registry: string): Promise<boolean> {
  const cfg = readConfig();
  const key = storeKey(registry);
  const helperName = cfg.credHelpers?.[key] ?? cfg.credsStore;
  let found = false;
  if (helperName) found = await helper(helperName, "erase", key).then(() => true, () => false);
  for (const k of keysFor(registry)) if (cfg.auths && k in cfg.auths) {
    delete cfg.auths[k];
    found = true;
  }
  if (found) await writeConfig(cfg);
  return found;
}
