// Starts the real CNCF distribution registry (Debian's docker-registry) on a free loopback port.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTokenServer, type TokenPolicy, type TokenServer } from "./token-server.ts";

export type RegistryMode = "open" | "basic" | "token" | "tls";

export interface RunningRegistry {
  host: string;
  url: string;
  mode: RegistryMode;
  dir: string;
  storageDir: string;
  caFile?: string;
  users: { name: string; password: string }[];
  tokenServer?: TokenServer;
  /** The registry's stderr log (its "response completed" lines; see access-log.ts). */
  logPath: string;
  /** Its combined-format access log (stdout): one line for every request, auth refusals included. */
  accessLogPath: string;
  /** The docker-registry process (benches read its CPU time from /proc). */
  pid: number;
  stop(): Promise<void>;
}

export const USERS = [{ name: "alice", password: "wonderland-secret-42" }];

// Safety net: a test file that dies between start and afterAll must not leave registries running.
// Only processes this module started, by their own handles.
const running = new Map<{ kill(): void }, string>();
process.once("exit", () => {
  for (const [p, dir] of running) {
    p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function sh(cmd: string[], cwd: string): Promise<void> {
  const p = Bun.spawn(cmd, { cwd, stdout: "ignore", stderr: "pipe" });
  if ((await p.exited) !== 0) throw new Error(`${cmd.join(" ")}: ${await new Response(p.stderr).text()}`);
}

/** A self-signed CA plus a server certificate for 127.0.0.1/localhost, made with openssl. */
export async function makeTlsFiles(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n");
  await sh(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=imgx test CA"], dir);
  await sh(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"], dir);
  await sh(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext"], dir);
  return { ca: join(dir, "ca.pem"), cert: join(dir, "server.pem"), key: join(dir, "server.key") };
}

export interface RegistryOptions {
  /** Users for basic and token modes (default USERS). */
  users?: { name: string; password: string }[];
  /** Lifetime of tokens the token server issues (default 300 s). */
  tokenExpiresIn?: number;
  /** Token mode: who may do what (default: anonymous pulls public/…, users pull and push everything). */
  tokenPolicy?: TokenPolicy;
  /** Serve HTTPS in open or basic mode too (mode "tls" is open + TLS); `caFile` is then set. */
  tls?: boolean;
  /** Accept and serve Docker schema 1 manifests (distribution's compatibility.schema1.enabled). */
  schema1?: boolean;
  /** storage.delete.enabled (default true); false makes distribution refuse deletes with 405 UNSUPPORTED. */
  deleteEnabled?: boolean;
  /** catalog.maxentries: the most repositories one /v2/_catalog page may hold (distribution's default 1000). */
  catalogMaxEntries?: number;
}

export async function startRegistry(mode: RegistryMode, opts: RegistryOptions = {}): Promise<RunningRegistry> {
  const users = opts.users ?? USERS;
  if (!Bun.which("docker-registry")) throw new Error("docker-registry is not installed (apt-get install -y docker-registry)");
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), `imgx-registry-${mode}-`));
    try {
      return await start(mode, dir, users, opts);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      // the free port was taken between our probe and the registry's bind (parallel test runs): try another
      if (!(e instanceof PortTaken) || attempt >= 5) throw e;
    }
  }
}

class PortTaken extends Error {}

async function start(mode: RegistryMode, dir: string, users: { name: string; password: string }[], opts: RegistryOptions): Promise<RunningRegistry> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const storageDir = join(dir, "storage");
  let auth = "";
  let tls = "";
  let caFile: string | undefined;
  let tokenServer: TokenServer | undefined;
  if (mode === "basic") {
    // distribution 2.8.2 (Go's x/crypto/bcrypt) accepts Bun's "$2b$" hashes as they are: checked, no "$2y$" rewrite needed
    const lines = await Promise.all(users.map(async (u) => `${u.name}:${await Bun.password.hash(u.password, { algorithm: "bcrypt", cost: 4 })}`));
    writeFileSync(join(dir, "htpasswd"), `${lines.join("\n")}\n`);
    auth = `auth:\n  htpasswd:\n    realm: imgx-test\n    path: ${join(dir, "htpasswd")}\n`;
  } else if (mode === "token") {
    tokenServer = await startTokenServer(dir, users, { expiresIn: opts.tokenExpiresIn, policy: opts.tokenPolicy });
    auth = `auth:\n  token:\n    realm: ${tokenServer.url}/token\n    service: imgx-test-registry\n    issuer: imgx-test-issuer\n    rootcertbundle: ${tokenServer.certFile}\n`;
  }
  if (mode === "tls" || opts.tls) {
    // token+TLS would need an https token realm (clients refuse a plain-http realm for an https registry)
    if (mode === "token") throw new Error("startRegistry: token mode with TLS is not supported by the harness");
    const f = await makeTlsFiles(dir);
    caFile = f.ca;
    tls = `  tls:\n    certificate: ${f.cert}\n    key: ${f.key}\n`;
  }
  const config = `version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: ${storageDir}
  delete:
    enabled: ${opts.deleteEnabled ?? true}
  redirect:
    disable: true
${opts.catalogMaxEntries ? `catalog:\n  maxentries: ${opts.catalogMaxEntries}\n` : ""}http:
  addr: ${host}
  secret: imgx-test-secret
${tls}${auth}${opts.schema1 ? "compatibility:\n  schema1:\n    enabled: true\n" : ""}`;
  writeFileSync(join(dir, "config.yml"), config);
  const logPath = join(dir, "registry.log");
  const proc = Bun.spawn(["docker-registry", "serve", join(dir, "config.yml")], { stdout: Bun.file(logPath), stderr: Bun.file(`${logPath}.err`) });
  running.set(proc, dir);
  const scheme = tls ? "https" : "http";
  const url = `${scheme}://${host}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    // distribution logs "listening on" only once its own listener is bound: until then a server
    // answering /v2/ on this port may be someone else's
    const log = await Bun.file(`${logPath}.err`).text().catch(() => "");
    try {
      if (!log.includes(`listening on ${host}`)) throw new Error("not listening yet");
      const r = await fetch(`${url}/v2/`, { tls: { rejectUnauthorized: false } } as RequestInit);
      await r.body?.cancel();
      break;
    } catch {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill();
        await proc.exited;
        running.delete(proc);
        tokenServer?.stop();
        const err = await Bun.file(`${logPath}.err`).text().catch(() => "");
        if (/address already in use/.test(err)) throw new PortTaken(`port ${port} taken`);
        throw new Error(`docker-registry did not start in ${mode} mode: ${err.slice(-800)}`);
      }
      await Bun.sleep(50);
    }
  }
  return {
    pid: proc.pid,
    host,
    url,
    mode,
    dir,
    storageDir,
    caFile,
    users: mode === "basic" || mode === "token" ? users : [],
    tokenServer,
    logPath: `${logPath}.err`,
    accessLogPath: logPath,
    // only the process this call started, by its own handle (PID); safe to call twice
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill();
      await proc.exited;
      running.delete(proc);
      tokenServer?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts one registry per mode; if any fails to start, stops those that did and throws. */
export async function startRegistries(modes: RegistryMode[], opts: RegistryOptions = {}): Promise<Record<RegistryMode, RunningRegistry>> {
  const settled = await Promise.allSettled(modes.map((m) => startRegistry(m, opts)));
  const up = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) {
    await Promise.all(up.map((r) => r.stop()));
    throw failed.reason;
  }
  return Object.fromEntries(up.map((r) => [r.mode, r])) as Record<RegistryMode, RunningRegistry>;
}

/** The peers the integration tests run against; missing ones fail the run (never skip), in CI and locally. */
export function requirePeers(names = ["docker-registry", "skopeo", "umoci", "openssl"]): void {
  const missing = names.filter((n) => !Bun.which(n));
  if (missing.length) throw new Error(`Cannot run the integration tests: ${missing.join(", ")} not installed (apt-get install -y ${missing.join(" ")})`);
}
