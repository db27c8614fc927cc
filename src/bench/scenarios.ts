// The read scenarios. One operation of each:
//   pull     GET manifest (+ the platform's child of an index) + GET every blob, each sha256-verified
//   head     one HEAD of one of the image's blobs (round robin)
//   manifest one GET of the manifest the reference names
import { ImgxError, q } from "../core/errors.ts";
import type { BenchHttp, OpState } from "./http.ts";
import { ACCEPT, blobPath, manifestPath, type ReadTarget } from "./target.ts";

export type OpFn = (op: OpState, index: number) => Promise<void>;

export function pullOp(http: BenchHttp, t: ReadTarget): OpFn {
  return async (op) => {
    const { repo } = t;
    await http.send(op, "GET manifest", manifestPath(repo, t.reference), { method: "GET", headers: ACCEPT, repo, actions: ["pull"], expect: [200] });
    if (t.child) await http.send(op, "GET manifest", manifestPath(repo, t.child.digest), { method: "GET", headers: ACCEPT, repo, actions: ["pull"], expect: [200] });
    for (const b of t.blobs) {
      const got = await http.send(op, "GET blob", blobPath(repo, b.digest), { method: "GET", repo, actions: ["pull"], expect: [200], read: "sha256" });
      if (got.digest !== b.digest || got.size !== b.size) {
        op.rec.requestFailed("GET blob");
        throw new ImgxError("DIGEST_MISMATCH", `GET blob ${q(b.digest)}: received ${got.size} bytes hashing to ${got.digest}`);
      }
    }
  };
}

export function headOp(http: BenchHttp, t: ReadTarget): OpFn {
  const paths = t.blobs.map((b) => blobPath(t.repo, b.digest));
  return async (op, index) => {
    await http.send(op, "HEAD blob", paths[index % paths.length]!, { method: "HEAD", repo: t.repo, actions: ["pull"], expect: [200] });
  };
}

export function manifestOp(http: BenchHttp, t: ReadTarget): OpFn {
  const path = manifestPath(t.repo, t.reference);
  return async (op) => {
    await http.send(op, "GET manifest", path, { method: "GET", headers: ACCEPT, repo: t.repo, actions: ["pull"], expect: [200] });
  };
}

/** `pull=70,push=20,head=10` → cumulative weights; each operation draws one by a seeded generator. */
export function parseMix(s: string): { name: string; weight: number }[] {
  const parts = s.split(",").map((p) => p.trim()).filter(Boolean);
  const out = parts.map((p) => {
    const m = /^(pull|push|head|manifest)=(\d+(?:\.\d+)?)$/.exec(p);
    if (!m) throw new ImgxError("USAGE", `Cannot use --mix ${q(s)}: expected scenario=weight pairs like pull=70,push=20,head=10 (scenarios: pull, push, head, manifest)`);
    return { name: m[1]!, weight: Number(m[2]) };
  });
  const total = out.reduce((a, x) => a + x.weight, 0);
  if (!out.length || total <= 0) throw new ImgxError("USAGE", `Cannot use --mix ${q(s)}: the weights add up to 0`);
  if (new Set(out.map((x) => x.name)).size !== out.length) throw new ImgxError("USAGE", `Cannot use --mix ${q(s)}: a scenario appears twice`);
  return out.map((x) => ({ name: x.name, weight: x.weight / total }));
}

export function mixedOp(mix: { name: string; weight: number }[], ops: Record<string, OpFn>, seed: number): OpFn {
  let x = seed >>> 0 || 0x2545f491;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  return (op, index) => {
    let r = next();
    for (const m of mix) {
      if (r < m.weight) return ops[m.name]!(op, index);
      r -= m.weight;
    }
    return ops[mix[mix.length - 1]!.name]!(op, index);
  };
}
