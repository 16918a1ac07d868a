/**
 * loadProgram preprocesses and lowers the prelude and the environment's headers once per combination of
 * options and goes on from a copy for each load: what one load's files do to that state (a macro defined or
 * undefined, a struct the headers declare completed, a global or function added, __COUNTER__ advanced) must
 * not be seen by the next load, which must get exactly what a load from scratch gets.
 */
import { describe, expect, it } from "vitest";
import { type Loaded, loadProgram, type SourceFile } from "../../src/interp/index.ts";
import { cParser } from "../../src/node/c-parser.ts";

// Our own header: a struct only declared, a macro, a counter use.
const ENV: readonly SourceFile[] = [
  {
    path: "include/env/own.h",
    text: "struct later;\n#define OWN_MACRO 1\nstatic int first_counter = __COUNTER__;\n",
  },
];

const MEDDLER: SourceFile = {
  path: "drivers/meddler.c",
  text: [
    "#undef OWN_MACRO",
    "#define ADDED 1",
    "struct later { int a; long b; };",
    "int meddled = __COUNTER__;",
    "int meddle(void) { return 1; }",
  ].join("\n"),
};

const READER: SourceFile = {
  path: "drivers/reader.c",
  text: [
    "#ifdef OWN_MACRO",
    "int saw_own = 1;",
    "#endif",
    "#ifdef ADDED",
    "int saw_added = 1;",
    "#endif",
    "int counter = __COUNTER__;",
    "int size_known(struct later *p) { return 0; }",
  ].join("\n"),
};

const globals = (l: Loaded) => l.program.globals.map((g) => g.name).sort();
/** The value a global is initialised with, when it is a number. */
const initial = (l: Loaded, name: string) => {
  const init = l.program.globals.find((g) => g.name === name)?.decl.init;
  return init?.k === "expr" && init.e.k === "num" ? init.e.v : undefined;
};
const later = (l: Loaded) => l.program.structs.find((s) => s.tag === "later");

describe("loads that share the environment's headers", () => {
  it("each load starts from the headers alone, whatever an earlier load's files did", async () => {
    const parser = await cParser();
    const alone = loadProgram(parser, [READER], { envHeaders: ENV });
    loadProgram(parser, [MEDDLER], { envHeaders: ENV });
    const after = loadProgram(parser, [READER], { envHeaders: ENV });
    expect(globals(after)).toEqual(["counter", "first_counter", "saw_own"]);
    expect(later(after)?.complete).toBe(false);
    expect(Object.keys(after.program.functions).some((k) => k.endsWith("meddle"))).toBe(false);
    expect(after).toEqual(alone);
    // __COUNTER__ goes on from the headers' use (0), whatever the meddler's load took.
    expect(initial(after, "counter")).toBe(1n);
    // The meddler's own load saw what it did.
    const meddled = loadProgram(parser, [MEDDLER, READER], { envHeaders: ENV });
    expect(globals(meddled)).toEqual(["counter", "first_counter", "meddled", "saw_added"]);
    expect(later(meddled)?.complete).toBe(true);
  });

  it("other options are another environment: defines and config reach the headers", async () => {
    const parser = await cParser();
    const header: SourceFile = {
      path: "include/env/configured.h",
      text: "#ifdef CONFIG_OWN\nint configured = 1;\n#endif\n#ifdef FROM_CMDLINE\nint defined_on_cmdline = 1;\n#endif\n",
    };
    const env = [header];
    const none = loadProgram(parser, [], { envHeaders: env, noPrelude: true });
    const both = loadProgram(parser, [], {
      envHeaders: env,
      noPrelude: true,
      config: { CONFIG_OWN: "y" },
      defines: { FROM_CMDLINE: "1" },
    });
    expect(globals(none)).toEqual([]);
    expect(globals(both)).toEqual(["configured", "defined_on_cmdline"]);
    expect(globals(loadProgram(parser, [], { envHeaders: env, noPrelude: true }))).toEqual([]);
  });
});
