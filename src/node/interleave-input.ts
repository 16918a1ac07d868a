/**
 * The driver an input runs on the threaded environment (explore --interleave, replay --schedule): the
 * platform driver its series creates whole (module_platform_driver or platform_driver_register), with the
 * headers the series creates, lowered with the C parser (Node-only: tree-sitter's wasm).
 */
import { InputError } from "../errors.ts";
import { loadThreadedDriver, type ThreadedDriver } from "../explore/interleave.ts";
import type { Series } from "../series/types.ts";
import { applyWithoutTree, loadOrder, runnableFiles } from "../tree/index.ts";
import { cParser } from "./c-parser.ts";
import { loadInput } from "./inputs.ts";

const PLATFORM_DRIVER = /\bmodule_platform_driver\s*\(|\bplatform_driver_register\s*\(/;

/** The platform driver a series creates, loaded for the threaded environment. */
export async function threadedDriverOfSeries(series: Series, spec: string): Promise<ThreadedDriver> {
  const report = applyWithoutTree(series);
  const created = runnableFiles(report).filter(
    (f) => f.role === "source" && f.provenance.kind === "created" && PLATFORM_DRIVER.test(f.text),
  );
  const driver = created[0];
  if (driver === undefined)
    throw new InputError(
      `${spec}: the series creates no platform driver whole (module_platform_driver or platform_driver_register), so there is nothing to interleave`,
    );
  const headers = loadOrder(report).filter((f) => f.path.endsWith(".h"));
  const loaded = loadThreadedDriver(await cParser(), {
    source: { path: driver.path, text: driver.text },
    headers: headers.map((h) => ({ path: h.path, text: h.text })),
  });
  return loaded;
}

/** The platform driver of an input (a path, pr:…, git:…). */
export async function threadedDriverOf(spec: string): Promise<ThreadedDriver> {
  return threadedDriverOfSeries(await loadInput(spec), spec);
}
