import { describe, expect, it } from "vitest";
import { int32, NULLP } from "../../src/interp/values.ts";
import { machine, run } from "./helpers.ts";

const PRINTF = "int printf(const char *fmt, ...);\n";

describe("interpreter: statements", () => {
  it("runs if/else, while, do-while and for with break and continue", async () => {
    const out = await run(`${PRINTF}
int main(void) {
  int i, s = 0, n = 0;
  for (i = 0; i < 10; i++) {
    if (i == 7) break;
    if (i % 2) continue;
    s += i;
  }
  while (n < 100) n = n * 2 + 1;
  do { s++; } while (0);
  for (int j = 3; j; j--) s += j;
  printf("%d %d %d\\n", i, s, n);
  return 0;
}`);
    expect(out).toBe("7 19 127\n");
  });

  it("switches with fall-through, default in the middle, and a nested switch", async () => {
    const out = await run(`${PRINTF}
static int f(int x) {
  int r = 0;
  switch (x) {
  case 1:
    r += 1;
  case 2:
    r += 10;
    break;
  default:
    r = -1;
  case 5:
    switch (r) { case -1: r -= 100; break; default: r += 1000; }
    break;
  case 6: {
    int k = 3;
    r = k;
    break;
  }
  }
  return r;
}
int main(void) {
  printf("%d %d %d %d %d\\n", f(1), f(2), f(3), f(5), f(6));
  return 0;
}`);
    expect(out).toBe("11 10 -101 1000 3\n");
  });

  it("unwinds with goto in the kernel's error-path style, out of nested blocks and loops", async () => {
    const out = await run(`${PRINTF}
static int steps;
static int step(int i, int fail) { steps = steps * 10 + i; return i == fail ? -12 : 0; }
static void undo(int i) { steps = steps * 10 + i; }
static int probe(int fail) {
  int ret, i;
  steps = 0;
  ret = step(1, fail);
  if (ret)
    goto err;
  for (i = 0; i < 3; i++) {
    if (i == 1) {
      ret = step(2, fail);
      if (ret)
        goto err_undo1;
    }
  }
  ret = step(3, fail);
  if (ret)
    goto err_undo2;
  return 0;
err_undo2:
  undo(8);
err_undo1:
  undo(9);
err:
  return ret;
}
int main(void) {
  for (int f = 0; f <= 3; f++) {
    int r = probe(f);
    printf("%d:%d:%d ", f, r, steps);
  }
  printf("\\n");
  return 0;
}`);
    expect(out).toBe("0:0:123 1:-12:1 2:-12:129 3:-12:12389 \n");
  });

  it("jumps backwards with goto (a retry loop) and into a label inside a block", async () => {
    const out = await run(`${PRINTF}
int main(void) {
  int tries = 0;
again:
  tries++;
  if (tries < 3)
    goto again;
  goto inside;
  {
    printf("skipped\\n");
inside:
    printf("in %d\\n", tries);
  }
  return 0;
}`);
    expect(out).toBe("in 3\n");
  });

  it("runs cleanup functions when a scope ends, by return, break or goto, newest first", async () => {
    const out = await run(`${PRINTF}
static void done(int *p) { printf("cleanup %d\\n", *p); }
static int f(int how) {
  __attribute__((cleanup(done))) int a = 1;
  for (;;) {
    __attribute__((cleanup(done))) int b = 2;
    if (how == 0) break;
    if (how == 1) return 10;
    goto out;
  }
  printf("after loop\\n");
out:
  return how;
}
int main(void) {
  printf("-> %d\\n", f(0));
  printf("-> %d\\n", f(1));
  printf("-> %d\\n", f(2));
  return 0;
}`);
    expect(out).toBe(
      "cleanup 2\nafter loop\ncleanup 1\n-> 0\ncleanup 2\ncleanup 1\n-> 10\ncleanup 2\ncleanup 1\n-> 2\n",
    );
  });

  it("recurses, and an infinite loop is an unknown at its line, not a hang", async () => {
    const m = await machine(`
int fact(int n) { return n <= 1 ? 1 : n * fact(n - 1); }
int spin(void) {
  int i = 0;
  while (1)
    i++;
  return i;
}`);
    expect(m.call("fact", [int32(10)])).toMatchObject({
      status: "done",
      value: { v: 3628800n },
    });
    const limited = await machine(
      `int spin(void) { int i = 0; while (1) i++; return i; }`,
      undefined,
      "test.c",
      {
        maxSteps: 1000,
      },
    );
    expect(limited.call("spin")).toMatchObject({
      status: "unknown",
      what: "step limit of 1000 statements reached",
    });
  });

  it("reads statics inside functions once per instance (function-scope static)", async () => {
    const out = await run(`${PRINTF}
static int next_id(void) { static int id = 100; return id++; }
int main(void) { next_id(); next_id(); printf("%d\\n", next_id()); return 0; }`);
    expect(out).toBe("102\n");
  });

  it("ends a statement expression's scope with it: an inner name no longer shadows the outer one", async () => {
    // Its scope stayed on the frame: the block around it then popped that scope instead of its own, and
    // `x` after the block was the inner (ended) x, 2, where gcc prints 1.
    const out = await run(`${PRINTF}
int main(void) {
  int x = 1;
  { int x = 2; int y = ({ int z = 3; z; }); x = y; }
  printf("%d %d\n", x, ({ int x = 5; x; }) + x);
  return 0;
}`);
    expect(out).toBe("1 6\n");
  });

  it("declares with typeof(a type), and a type taken from an expression is an unknown saying so", async () => {
    const m = await machine(`
int named(void) { typeof(unsigned char) c = 300; return c; }
int of_var(void) { int a = 3; typeof(a) z = a; return z; }
int of_deref(int *p) { typeof(*p) x = *p; return x; }
int automatic(void) { int a = 3; __auto_type y = a + 1; return y; }
struct holder { unsigned int session; };
int of_member(struct holder *h) { typeof(h->session) s; s = 1; return s; }`);
    expect(m.call("named")).toMatchObject({ status: "done", value: { v: 44n } });
    expect(m.call("of_member", [NULLP])).toMatchObject({
      status: "unknown",
      what: "unsupported construct: typeof(h->session) in a declaration: a type taken from an expression",
    });
    expect(m.call("of_var")).toMatchObject({
      status: "unknown",
      what: "unsupported construct: typeof(a) in a declaration: a type taken from an expression",
    });
    for (const [fn, what] of [
      ["of_deref", "typeof"],
      ["automatic", "__auto_type"],
    ] as const)
      expect(m.call(fn, fn === "of_deref" ? [NULLP] : [])).toMatchObject({
        status: "unknown",
        what: `unsupported construct: ${what} in a declaration: a type taken from an expression`,
      });
  });
});
