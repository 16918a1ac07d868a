/** The first source file under `root`/src changed after the last build, a sentence when dist/ has no stamp, or null. */
export function changedSinceBuild(root: URL): string | null;
