/**
 * A local store of series ingested before: a directory with one JSON file per series holding a Series value
 * (src/series/types.ts, the JSON the bots keep per version). `review --store` and `b4-check --store` read it
 * to know the versions a series follows.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { InputError } from "../errors.ts";
import type { Series } from "../series/types.ts";

/** Every series of the store, in file-name order; a directory that does not exist is an input error. */
export async function loadStore(dir: string): Promise<Series[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new InputError(`cannot read the store directory: ${e instanceof Error ? e.message : String(e)}`, {
      subject: dir,
    });
  }
  const out: Series[] = [];
  for (const name of names.filter((n) => n.endsWith(".json")).sort()) {
    let doc: Partial<Series>;
    try {
      doc = JSON.parse(await readFile(join(dir, name), "utf8")) as Partial<Series>;
    } catch (e) {
      throw new InputError(`not a Series JSON file: ${e instanceof Error ? e.message : String(e)}`, {
        subject: join(dir, name),
      });
    }
    if (Array.isArray(doc.patches) && typeof doc.id === "string") out.push(doc as Series);
  }
  return out;
}
