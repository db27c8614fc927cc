import { ImgxError, q } from "./errors.ts";

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  "os.version"?: string;
  "os.features"?: string[];
  features?: string[];
}

const ARCH_ALIASES: Record<string, string> = {
  x86_64: "amd64",
  "x86-64": "amd64",
  aarch64: "arm64",
  armhf: "arm",
  armel: "arm",
  i386: "386",
  i686: "386",
};

/** Normalises os/arch/variant the way containerd does, so that equal platforms compare equal. */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  if (architecture === "armhf") variant ??= "v7";
  if (architecture === "armel") variant ??= "v6";
  architecture = ARCH_ALIASES[architecture] ?? architecture;
  if (architecture === "arm64" && (variant === "v8" || variant === "8")) variant = undefined;
  if (architecture === "arm") {
    variant ??= "v7";
    if (/^\d$/.test(variant)) variant = `v${variant}`;
  }
  if (architecture === "amd64" && variant === "v1") variant = undefined;
  const out: Platform = { os, architecture };
  if (variant) out.variant = variant;
  return out;
}

const PART_RE = /^[a-z0-9_.-]+$/i;

/** Parses "os/arch[/variant]" (or just "arch", meaning linux/arch). */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().split("/");
  if (parts.length === 1 && parts[0] && PART_RE.test(parts[0]))
    return normalizePlatform({ os: "linux", architecture: parts[0] });
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => !x || !PART_RE.test(x)))
    throw new ImgxError("USAGE", `Cannot parse platform ${q(s)}: expected os/arch[/variant], e.g. linux/arm64 or linux/arm/v7`);
  return normalizePlatform({ os: parts[0]!, architecture: parts[1]!, variant: parts[2] });
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** The default platform: linux on the host's CPU (never darwin/windows; images are Linux). */
export function hostPlatform(): Platform {
  const arch = process.arch === "x64" ? "amd64" : process.arch === "ia32" ? "386" : process.arch;
  return normalizePlatform({ os: "linux", architecture: arch });
}

/**
 * How well a candidate matches a wanted platform: -1 for no match, higher is better.
 * An unset wanted variant accepts any variant; an exact variant beats a compatible older one
 * (arm/v7 can run arm/v6 and arm/v5).
 */
export function platformScore(want: Platform, have: Platform | undefined): number {
  if (!have) return -1;
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return -1;
  if (!w.variant) return h.variant ? 50 : 100;
  if (w.variant === h.variant) return 100;
  if (w.architecture === "arm" && h.variant) {
    const wn = Number(w.variant.slice(1));
    const hn = Number(h.variant.slice(1));
    if (hn < wn) return 50 - (wn - hn);
  }
  return -1;
}

