/**
 * Node side of the HTML report: reads mermaid's browser bundle from node_modules so that the page renders its
 * diagrams without fetching anything (the report inlines it; see src/report/html.ts).
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { InputError } from "../errors.ts";

const require = createRequire(import.meta.url);

/** The text of mermaid.min.js (about 3.5 MB), or an InputError saying how to get it. */
export async function loadMermaidScript(): Promise<string> {
  let path: string;
  try {
    path = require.resolve("mermaid/dist/mermaid.min.js");
  } catch (e) {
    throw new InputError(
      "the HTML report inlines mermaid's browser bundle: install it with `npm i mermaid@11`",
      {
        subject: "--format html",
        cause: e,
      },
    );
  }
  return readFile(path, "utf8");
}
