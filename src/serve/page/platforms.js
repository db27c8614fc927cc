// Multi-platform images in an archive: which images form one (an image index in the archive, or
// docker-save entries sharing their tags), what the page offers for them ("all platforms", pushed as
// one index, or one platform), the layers to send (a layer shared by platforms goes once) and the
// body of POST /api/commit-index.
import { b64 } from "./util.js";

const layerKey = (l) => `${l.expect} ${l.gzip}`;
const imageKey = (img) => `${img.platform} ${img.layers.map(layerKey).join(",")}`;
const setKey = (img) => img.set?.key ?? (img.names.length ? `tags ${[...img.names].sort().join(",")}` : undefined);

/**
 * Docker 25+ save: manifest.json names one platform of a multi-platform image; index.json has them
 * all. Each index with several complete platforms is offered, plus the manifest.json images it lacks.
 */
export function withIndexPlatforms(saved, fromIndex) {
  const count = new Map();
  for (const img of fromIndex) if (img.set) count.set(img.set.key, (count.get(img.set.key) ?? 0) + 1);
  const multi = fromIndex.filter((img) => img.set && count.get(img.set.key) > 1);
  if (multi.length === 0) return saved;
  const have = new Set(multi.map(imageKey));
  return [...multi, ...saved.filter((img) => !have.has(imageKey(img)))];
}

/** The platform descriptor field: the source index's (variant, os.version… kept), else the config's. */
export function platformSpec(img) {
  if (img.platformSpec) return img.platformSpec;
  const c = img.config ?? {};
  return { architecture: c.architecture, os: c.os, ...(c.variant ? { variant: c.variant } : {}), ...(c["os.version"] ? { "os.version": c["os.version"] } : {}) };
}

/**
 * What the page lists, in order: for each multi-platform set, "all platforms" then each platform on
 * its own; then every other image. A set needs two or more images with different platforms.
 */
export function choicesOf(images) {
  const groups = new Map();
  for (const img of images) {
    const k = setKey(img);
    if (k) groups.set(k, [...(groups.get(k) ?? []), img]);
  }
  const out = [];
  const listed = new Set();
  for (const img of images) {
    if (listed.has(img)) continue;
    const g = groups.get(setKey(img)) ?? [img];
    if (g.length > 1 && new Set(g.map((i) => i.platform)).size === g.length) {
      out.push({ kind: "all", names: img.set?.names ?? img.names, form: img.set?.form ?? img.format, images: g, skipped: img.set?.skipped ?? [] });
      for (const i of g) {
        out.push({ kind: "one", image: i });
        listed.add(i);
      }
    } else {
      out.push({ kind: "one", image: img });
      listed.add(img);
    }
  }
  return out;
}

/** An "all platforms" choice as Upload sends it: every distinct layer once, and where each platform's layers are in that list. */
export function indexUpload(choice) {
  const layers = [];
  const at = new Map();
  const platforms = choice.images.map((image) => ({
    image,
    slots: image.layers.map((l) => {
      if (!at.has(layerKey(l))) {
        at.set(layerKey(l), layers.length);
        layers.push(l);
      }
      return at.get(layerKey(l));
    }),
  }));
  return { layers, platforms, form: choice.form };
}

/** POST /api/commit-index body: each platform's config and its layers as the server stored them. */
export function indexCommitBody(reference, plan, results) {
  return {
    reference,
    form: plan.form,
    manifests: plan.platforms.map(({ image, slots }) => ({
      platform: platformSpec(image),
      config: b64(image.configBytes),
      layers: image.layers.map((l, i) => ({ expect: l.expect, digest: results[slots[i]].digest, size: results[slots[i]].size, compression: l.compression, gzipped: l.gzip })),
    })),
  };
}
