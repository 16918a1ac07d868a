// Whether dist/ is older than src/: the built CLI (bin/rproc-review.js) and the test set-up (test/global-setup.ts)
// both ask. `npm run build` writes dist/build-stamp.json with the time the build started.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";

/**
 * The first source file under `root`/src changed after the build started, a sentence when dist/ has no stamp,
 * or null (also when there are no sources: an installed package ships dist/ only).
 */
export function changedSinceBuild(root) {
  const src = new URL("src/", root);
  if (!existsSync(src)) return null;
  let started = 0;
  try {
    started = JSON.parse(readFileSync(new URL("dist/build-stamp.json", root), "utf8")).started;
  } catch {
    return "dist/build-stamp.json (missing: dist/ was not built by npm run build)";
  }
  const walk = (dir, rel) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = `${dir}/${e.name}`;
      const found = e.isDirectory()
        ? walk(p, `${rel}${e.name}/`)
        : statSync(p).mtimeMs > started
          ? `${rel}${e.name}`
          : null;
      if (found !== null) return found;
    }
    return null;
  };
  return walk(src.pathname.replace(/\/$/, ""), "src/");
}
