/**
 * Decides where C parsing runs: web-tree-sitter inside workerd, given the wasm files as bytes (all a Worker
 * could bundle them as). Expected: workerd refuses to compile wasm from bytes, so `map` runs on Node (Language.load needs an initialised Parser) and the
 * Worker reviews with facts that come with the series (src/workers/index.ts).
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Parser } from "web-tree-sitter";

const bytes = (base64: string): Uint8Array<ArrayBuffer> =>
  Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));

describe("web-tree-sitter in workerd", () => {
  it("cannot load the C grammar: compiling wasm from bytes is disallowed", async () => {
    const core = bytes(env.TEST_TS_CORE_WASM);
    const grammar = bytes(env.TEST_TS_C_WASM);
    await expect(WebAssembly.compile(grammar)).rejects.toThrow(/Wasm code generation disallowed by embedder/);
    // The runtime of web-tree-sitter is refused the same way, before Language.load could read the grammar.
    await expect(Parser.init({ wasmBinary: core })).rejects.toThrow(
      /Wasm code generation disallowed by embedder/,
    );
  });
});
