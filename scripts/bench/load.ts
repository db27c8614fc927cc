// imgx bench as a load generator, measured against the reference tool and against a server that
// costs (almost) nothing:
//   load-hey    imgx bench head vs hey (Go) on the local docker-registry: same concurrency, same
//               request count, same 2 cores shared with the registry. Target: imgx ≥ 0.9× hey's req/s.
//   load-nginx  imgx bench head against nginx serving a registry-shaped static tree: requests per
//               second of generator CPU (process.cpuUsage), and req/s with imgx pinned to one core
//               (taskset) and nginx to the other. Target: ≥ 20,000 req/s per generator core.
// Installs hey and nginx-light with apt when missing. Medians of --runs (≥ 3), runs alternating.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startRegistry } from "../../test/harness/registry.ts";
import { tinyImage, writeOciLayout } from "../../test/harness/tiny-image.ts";
import { median } from "./measure.ts";

interface Ctx {
  work: string;
  imgx: string;
  runs: number;
  sections: { hey: boolean; nginx: boolean };
}

function need(tools: Record<string, string>): void {
  const missing = Object.entries(tools).filter(([bin]) => !Bun.which(bin) && !Bun.which(bin, { PATH: "/usr/sbin:/usr/bin" })).map(([, pkg]) => pkg);
  if (!missing.length) return;
  const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
  process.stderr.write(`installing ${missing.join(" ")}\n`);
  for (const cmd of [[...sudo, "apt-get", "update", "-qq"], [...sudo, "apt-get", "install", "-y", "-qq", ...missing]]) {
    const p = Bun.spawnSync(cmd, { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }, stdout: "ignore", stderr: "inherit" });
    if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed`);
  }
}

async function out(cmd: string[]): Promise<string> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const [o, e, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}: ${e.slice(-500)}`);
  return o;
}

interface BenchJson {
  operations: { count: number; errors: number; perSecond: number };
  generator: { cpuSeconds: number };
  seconds: number;
}
const imgxHead = async (c: Ctx, ref: string, n: number, conc: number, pin?: string): Promise<BenchJson> =>
  JSON.parse(await out([...(pin ? ["taskset", "-c", pin] : []), c.imgx, "bench", "head", ref, "--plain-http", "--count", String(n), "-c", String(conc), "--json", "--quiet"])) as BenchJson;

async function heyHead(url: string, n: number, conc: number): Promise<number> {
  const text = await out(["hey", "-n", String(n), "-c", String(conc), "-m", "HEAD", url]);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const bad = /\[(?!200\])\d{3}\]\s+\d+ responses/.exec(text);
  if (!rps || bad) throw new Error(`hey: unexpected output: ${text.slice(0, 800)}`);
  return Number(rps[1]);
}

async function benchHey(c: Ctx): Promise<void> {
  need({ hey: "hey" });
  const reg = await startRegistry("open");
  try {
    const img = tinyImage({ seed: "load", layerBytes: 1024 });
    const lay = join(c.work, "load-layout");
    rmSync(lay, { recursive: true, force: true });
    writeOciLayout(lay, img, "1");
    await out([c.imgx, "push", "--quiet", "--plain-http", `oci:${lay}:1`, `${reg.host}/bench/app:1`]);
    const ref = `${reg.host}/bench/app:1`;
    // imgx bench head goes round robin over the config and the layer; hey asks for one blob
    const url = `${reg.url}/v2/bench/app/blobs/${img.layer.digest}`;
    const [n, conc] = [20_000, 32];
    await imgxHead(c, ref, 2000, conc);
    await heyHead(url, 2000, conc);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < c.runs; i++) {
      const order = i % 2 ? ["hey", "imgx"] : ["imgx", "hey"];
      for (const who of order) {
        if (who === "hey") theirs.push(await heyHead(url, n, conc));
        else {
          const r = await imgxHead(c, ref, n, conc);
          if (r.operations.errors) throw new Error(`imgx bench head: ${r.operations.errors} errors`);
          ours.push(r.operations.perSecond);
        }
      }
    }
    const ratio = median(ours) / median(theirs);
    console.log(`### imgx bench head vs hey, local docker-registry, ${n} HEADs at concurrency ${conc}\n`);
    console.log("| tool | median req/s | runs |\n|---|---|---|");
    console.log(`| imgx bench head | ${median(ours).toFixed(0)} | ${ours.map((x) => x.toFixed(0)).join(", ")} |`);
    console.log(`| hey -m HEAD | ${median(theirs).toFixed(0)} | ${theirs.map((x) => x.toFixed(0)).join(", ")} |`);
    console.log(`\nimgx/hey: **${ratio.toFixed(3)}×** (target ≥ 0.9×: ${ratio >= 0.9 ? "met" : "not met"})\n`);
  } finally {
    await reg.stop();
  }
}

/** A registry-shaped tree nginx can serve: /v2/, one manifest by tag, its blobs. */
function staticTree(root: string): void {
  const img = tinyImage({ seed: "static", layerBytes: 1024 });
  const repo = join(root, "v2/bench/app");
  mkdirSync(join(repo, "manifests"), { recursive: true });
  mkdirSync(join(repo, "blobs"), { recursive: true });
  writeFileSync(join(root, "v2/index.json"), "{}");
  writeFileSync(join(repo, "manifests/1"), img.manifest.bytes);
  for (const b of img.blobs) writeFileSync(join(repo, "blobs", b.digest), b.bytes);
}

async function benchNginx(c: Ctx): Promise<void> {
  need({ nginx: "nginx-light", taskset: "util-linux" });
  const dir = join(c.work, "nginx");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "tmp"), { recursive: true });
  staticTree(join(dir, "www"));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const t = join(dir, "tmp");
  writeFileSync(
    join(dir, "nginx.conf"),
    `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 10000000; client_body_temp_path ${t}; proxy_temp_path ${t}; fastcgi_temp_path ${t}; uwsgi_temp_path ${t}; scgi_temp_path ${t};
  server { listen 127.0.0.1:${port}; root ${dir}/www; index index.json;
    location /v2/bench/app/manifests/ { default_type application/vnd.oci.image.manifest.v1+json; }
  } }
`,
  );
  const nginx = Bun.which("nginx") ?? "/usr/sbin/nginx";
  // nginx on core 1; the generator is pinned to core 0 for the per-core row
  const srv = Bun.spawn(["taskset", "-c", "1", nginx, "-c", join(dir, "nginx.conf"), "-p", dir], { stdout: "ignore", stderr: "inherit" });
  try {
    await Bun.sleep(500);
    const ref = `127.0.0.1:${port}/bench/app:1`;
    const [n, conc] = [200_000, 64];
    await imgxHead(c, ref, 20_000, conc, "0");
    const perCpu: number[] = [];
    const pinned: number[] = [];
    for (let i = 0; i < c.runs; i++) {
      const r = await imgxHead(c, ref, n, conc, "0");
      if (r.operations.errors) throw new Error(`imgx bench head: ${r.operations.errors} errors`);
      pinned.push(r.operations.perSecond);
      perCpu.push(r.operations.count / r.generator.cpuSeconds);
    }
    console.log(`### imgx bench head against nginx (static registry-shaped tree), ${n} HEADs at concurrency ${conc}, imgx pinned to core 0, nginx to core 1\n`);
    console.log("| measure | median | runs |\n|---|---|---|");
    console.log(`| req/s, generator on one core | ${median(pinned).toFixed(0)} | ${pinned.map((x) => x.toFixed(0)).join(", ")} |`);
    console.log(`| requests per generator CPU-second | ${median(perCpu).toFixed(0)} | ${perCpu.map((x) => x.toFixed(0)).join(", ")} |`);
    console.log(`\ntarget ≥ 20,000 req/s per generator core: **${median(pinned) >= 20_000 ? "met" : "not met"}** (one core), **${median(perCpu) >= 20_000 ? "met" : "not met"}** (per CPU-second)\n`);
  } finally {
    srv.kill();
    await srv.exited;
  }
}

export async function benchLoad(c: Ctx): Promise<void> {
  if (c.sections.hey) await benchHey(c);
  if (c.sections.nginx) await benchNginx(c);
}
