import { describe, expect, it } from "vitest";
import { int32 } from "../../src/interp/values.ts";
import { machine, run } from "./helpers.ts";

const PRINTF = "int printf(const char *fmt, ...);\n";

describe("interpreter: expressions", () => {
  it("does integer arithmetic with C's widths, promotions and wrap-around", async () => {
    const out = await run(`${PRINTF}
int main(void) {
  int a = 7, b = -3;
  unsigned u = 4000000000u;
  unsigned char c = 250;
  signed char s = 127;
  short sh = -32768;
  long l = (long)a * 1000000000L;
  c += 10;
  s++;
  sh--;
  printf("%d %d %d %u %d %ld\\n", a + b, a / b, a % b, u * 2, c, l);
  printf("%d %d %d\\n", s, sh, -1 < 0u);
  printf("%u %d %d\\n", (unsigned)-1 >> 28, (signed char)200, ~0 >> 1);
  printf("%lu %llx %d\\n", sizeof(long), 0xffffffffULL + 1, (int)0x80000000u);
  return 0;
}`);
    expect(out).toBe("4 -2 1 3705032704 4 7000000000\n-128 32767 0\n15 -56 -1\n8 100000000 -2147483648\n");
  });

  it("types literals as C does (decimal int/long, hex unsigned, suffixes)", async () => {
    const out = await run(`${PRINTF}
int main(void) {
  printf("%lu %lu %lu %lu %lu\\n", sizeof(2147483647), sizeof(2147483648), sizeof(0xffffffff), sizeof(1u), sizeof(1ll));
  printf("%d %d\\n", 0xffffffff > 0, -2147483648 < 0);
  printf("%d %d %d\\n", 'a', '\\n', '\\x41');
  return 0;
}`);
    expect(out).toBe("4 8 4 4 8\n1 1\n97 10 65\n");
  });

  it("follows pointers as (object, offset): arithmetic, subscripts, differences, comparisons", async () => {
    const out = await run(`${PRINTF}
int main(void) {
  int a[5] = { 1, 2, 3, 4, 5 };
  int *p = a, *q = &a[4];
  char *c = (char *)a;
  p += 2;
  *p = 30;
  printf("%d %d %ld %d %d\\n", a[2], *(q - 1), q - p, p < q, c[8]);
  printf("%lu %lu\\n", sizeof a, sizeof a / sizeof a[0]);
  return 0;
}`);
    expect(out).toBe("30 4 2 1 30\n20 5\n");
  });

  it("reads and writes struct members by name, nested structs, unions, bit-fields and arrays of structs", async () => {
    const out = await run(`${PRINTF}
struct inner { short x; long y; };
struct outer { char tag; struct inner in; union { int i; unsigned char b[4]; } u; unsigned f1 : 3, f2 : 5; struct inner arr[2]; };
int main(void) {
  struct outer o = { .tag = 'T', .in = { .x = 3, .y = 40 }, .u.i = 0x01020304, .arr[1].y = 9 };
  struct outer *p = &o;
  p->f1 = 9;
  p->f2 = 31;
  p->in.x += 2;
  printf("%c %d %ld %d %u %u %ld %ld\\n", o.tag, o.in.x, p->in.y, o.u.b[0], o.f1, o.f2, o.arr[1].y, o.arr[0].y);
  printf("%lu %lu %lu\\n", sizeof(struct inner), sizeof(struct outer), sizeof o.u);
  return 0;
}`);
    expect(out).toBe("T 5 40 4 1 31 9 0\n16 64 4\n");
  });

  it("copies structs by value (assignment, parameters, return) and compound literals", async () => {
    const out = await run(`${PRINTF}
struct pt { int x, y; };
static struct pt mk(int x, int y) { struct pt p = { x, y }; return p; }
static int sum(struct pt p) { p.x += 100; return p.x + p.y; }
int main(void) {
  struct pt a = mk(1, 2), b;
  b = a;
  b.x = 10;
  a = (struct pt){ .y = 7 };
  printf("%d %d %d %d %d\\n", a.x, a.y, b.x, sum(b), b.x);
  return 0;
}`);
    expect(out).toBe("0 7 10 112 10\n");
  });

  it("calls through function pointers and designated ops tables", async () => {
    const out = await run(`${PRINTF}
struct ops { int (*start)(int); int (*stop)(int); void *priv; };
static int my_start(int x) { return x + 1; }
static int my_stop(int x) { return x * 2; }
static const struct ops ops = { .stop = my_stop, .start = my_start };
int main(void) {
  const struct ops *o = &ops;
  int (*f)(int) = my_stop;
  printf("%d %d %d %d %d\\n", o->start(1), (*o->stop)(5), f(7), o->priv == 0, ops.start == my_start);
  return 0;
}`);
    expect(out).toBe("2 10 14 1 1\n");
  });

  it("ends in a fault, not a crash, on a call through a NULL ops member", async () => {
    const m = await machine(`
struct ops { int (*start)(void); };
static struct ops ops;
int main(void) { return ops.start(); }`);
    const r = m.call("main");
    expect(r).toMatchObject({ status: "fault", kind: "null-deref", site: { file: "test.c", line: 4 } });
  });

  it("keeps static globals per instance of the program", async () => {
    const text = `static int count; int bump(void) { return ++count; }`;
    const m1 = await machine(text);
    const m2 = await machine(text);
    m1.call("bump");
    const r1 = m1.call("bump");
    const r2 = m2.call("bump");
    expect(r1).toMatchObject({ status: "done", value: { v: 2n } });
    expect(r2).toMatchObject({ status: "done", value: { v: 1n } });
  });

  it("evaluates sizeof without evaluating its operand, and shifts by a too-wide count are unknown", async () => {
    const m = await machine(`
int n;
int f(void) { int x = sizeof(n++); return n + x; }
int g(int s) { return 1 << s; }`);
    expect(m.call("f")).toMatchObject({ status: "done", value: { v: 4n } });
    expect(m.call("g", [int32(31)])).toMatchObject({ status: "done", value: { v: -2147483648n } });
    expect(m.call("g", [int32(32)])).toMatchObject({
      status: "unknown",
      what: "shift by 32 of a 32-bit value (undefined in C)",
      site: { line: 4 },
    });
  });

  it("names an unknown API and its line instead of crashing or skipping it", async () => {
    const m = await machine(`
int probe(void) {
  int ret = 0;
  ret = rproc_frobnicate(3);
  return ret;
}`);
    expect(m.call("probe")).toEqual({
      status: "unknown",
      what: "rproc_frobnicate(): not defined in the files and not provided by the environment",
      site: { file: "test.c", line: 4 },
    });
  });

  it("names a construct it does not handle and its line", async () => {
    const m = await machine(`
int f(void) {
  int x = 1;
  double d = 1.5;
  return x;
}`);
    expect(m.call("f")).toMatchObject({ status: "unknown", site: { line: 4 } });
    expect(m.threads[0]?.result).toMatchObject({ what: expect.stringMatching(/floating literal 1.5/) });
  });
});

describe("interpreter: what the environment must define", () => {
  it("an object of a struct no file or header defines is an unknown naming the struct, not a zero-sized object", async () => {
    const m = await machine(`
struct tee_thing;
int use(struct tee_thing *t) { return t != 0; }
int local(void) {
  struct tee_thing params[4];
  return 0;
}`);
    expect(
      m.call("use", [{ k: "ptr", t: { k: "ptr", to: { k: "void" } }, addr: 0n, obj: null }]),
    ).toMatchObject({
      status: "done",
      value: { v: 0n },
    });
    expect(m.call("local")).toEqual({
      status: "unknown",
      what: "struct tee_thing is not defined (by the files or the environment's headers)",
      site: { file: "test.c", line: 5 },
    });
  });

  it("a static whose initialiser cannot run is an unknown where it is used; the rest of the file still runs", async () => {
    const m = await machine(`
struct id { int a; };
static const struct id ids[] = { { 1, 2 }, { 0 } };
int other(void) { return 7; }
int first(void) { return ids[0].a; }`);
    expect(m.initProblems).toEqual([
      {
        what: expect.stringMatching(
          /^the initialiser of ids could not run: too many initialisers for struct id/,
        ),
        site: { file: "test.c", line: 3 },
      },
    ]);
    expect(m.call("other")).toMatchObject({ status: "done", value: { v: 7n } });
    expect(m.call("first")).toMatchObject({ status: "unknown", site: { file: "test.c", line: 3 } });
  });
  it("casts a typedef to a parenthesised operand after its postfix operators, as C binds them", async () => {
    // tree-sitter reads \`(u64)(p)->f\` as a call of u64; C applies -> (and [ ]) first, then the cast.
    const out = await run(`${PRINTF}
typedef unsigned long long u64;
typedef unsigned char u8;
struct s { unsigned int f; unsigned int a[2]; };
int main(void) {
  struct s v = { 0xfffffffe, { 7, 0x1ff } };
  const void *p = &v;
  printf("%llu %d\\n", (u64)((const struct s *)p)->f + 2, (u8)((const struct s *)p)->a[1]);
  return 0;
}`);
    expect(out).toBe("4294967296 255\n");
  });

  it("calls what a name denotes where it is called: a local or a global function pointer shadows a function", async () => {
    const out = await run(`${PRINTF}
static int one(void) { return 1; }
static int two(void) { return 2; }
int (*three)(void) = two;
static int by_name(void) { return one() * 100; }
static int shadowed(void) { int (*one)(void) = two; return one() * 10; }
static int in_block(int k) { int r = one(); if (k) { int (*one)(void) = two; r += one() * 10; } return r + one(); }
int main(void) {
  int i, s = 0;
  for (i = 0; i < 2; i++) s += by_name() + shadowed() + in_block(i) + three();
  printf("%d\n", s);
  return 0;
}`);
    // by_name 100, shadowed 20, three 2, twice; in_block 1 + 1, then 1 + 20 + 1.
    expect(out).toBe(`${2 * (100 + 20 + 2) + 2 + 22}\n`);
  });
});
