/**
 * Node-only: loads the C grammar that the tree-sitter-c package ships (wasm) into web-tree-sitter and returns
 * a ready parser. The mapper (src/semantics/map) takes the parser as a parameter, so it stays Workers-safe.
 */
import { createRequire } from "node:module";
import type { Parser } from "web-tree-sitter";

let ready: Promise<Parser> | undefined;

async function load(): Promise<Parser> {
  // Loaded on first use: only the commands that map C load tree-sitter.
  const { Language, Parser } = await import("web-tree-sitter");
  await Parser.init();
  const require = createRequire(import.meta.url);
  const wasm = require.resolve("tree-sitter-c/tree-sitter-c.wasm");
  const language = await Language.load(wasm);
  const parser = new Parser();
  parser.setLanguage(language);
  return parser;
}

/** A C parser (one per process: tree-sitter parsers are reusable and parsing is synchronous). */
export function cParser(): Promise<Parser> {
  ready ??= load();
  return ready;
}
