import pkg from "../../package.json" with { type: "json" };

declare const IMGX_BUILD_TARGET: string | undefined;

export function versionLine(): string {
  const target = typeof IMGX_BUILD_TARGET === "string" ? IMGX_BUILD_TARGET : `source (${process.platform}-${process.arch})`;
  return `imgx ${pkg.version} (bun ${Bun.version}, ${target})`;
}
