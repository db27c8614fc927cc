// The page, embedded in the binary as text: `bun build --compile` inlines these imports, so imgx
// serve ships no second file and loads nothing from a CDN. The scripts are plain browser ES
// modules (checked by the chromium tests, not by tsc).
// @ts-ignore: a browser script or stylesheet, imported as text (no module types)
import hashWasm from "../../node_modules/hash-wasm/dist/sha256.umd.min.js" with { type: "text" };
// @ts-ignore: a browser script or stylesheet, imported as text (no module types)
import fzstdJs from "../../node_modules/fzstd/umd/index.js" with { type: "text" };
// @ts-ignore: a browser script or stylesheet, imported as text (no module types)
import archiveJs from "./page/archive.js" with { type: "text" };
// @ts-ignore: a browser script or stylesheet, imported as text (no module types)
import browseJs from "./page/browse.js" with { type: "text" };
// @ts-ignore: a browser script or stylesheet, imported as text (no module types)
import html from "./page/index.html" with { type: "text" };
// @ts-ignore: a browser script or stylesheet, imported as text (no module types)
import layerBytesJs from "./page/layer-bytes.js" with { type: "text" };
// @ts-ignore: a browser script or stylesheet, imported as text (no module types)
import mainJs from "./page/main.js" with { type: "text" };
// @ts-ignore: a browser script or stylesheet, imported as text (no module types)
import platformsJs from "./page/platforms.js" with { type: "text" };
// @ts-ignore: a browser script or stylesheet, imported as text (no module types)
import progressJs from "./page/progress.js" with { type: "text" };
// @ts-ignore: a browser script or stylesheet, imported as text (no module types)
import css from "./page/style.css" with { type: "text" };
// @ts-ignore: a browser script or stylesheet, imported as text (no module types)
import tarJs from "./page/tar-index.js" with { type: "text" };
// @ts-ignore: a browser script or stylesheet, imported as text (no module types)
import tarStreamJs from "./page/tar-stream.js" with { type: "text" };
// @ts-ignore: a browser script or stylesheet, imported as text (no module types)
import uploadJs from "./page/upload.js" with { type: "text" };
// @ts-ignore: a browser script or stylesheet, imported as text (no module types)
import utilJs from "./page/util.js" with { type: "text" };

const JS = "text/javascript; charset=utf-8";

export const ASSETS: Record<string, { body: string; type: string }> = {
  "/": { body: html as unknown as string, type: "text/html; charset=utf-8" },
  "/app/style.css": { body: css as unknown as string, type: "text/css; charset=utf-8" },
  "/app/hash-wasm.js": { body: hashWasm as unknown as string, type: JS },
  "/app/main.js": { body: mainJs as unknown as string, type: JS },
  "/app/tar-index.js": { body: tarJs as unknown as string, type: JS },
  "/app/tar-stream.js": { body: tarStreamJs as unknown as string, type: JS },
  "/app/layer-bytes.js": { body: layerBytesJs as unknown as string, type: JS },
  "/app/fzstd.js": { body: fzstdJs as unknown as string, type: JS },
  "/app/upload.js": { body: uploadJs as unknown as string, type: JS },
  "/app/browse.js": { body: browseJs as unknown as string, type: JS },
  "/app/util.js": { body: utilJs as unknown as string, type: JS },
  "/app/archive.js": { body: archiveJs as unknown as string, type: JS },
  "/app/progress.js": { body: progressJs as unknown as string, type: JS },
  "/app/platforms.js": { body: platformsJs as unknown as string, type: JS },
};
