import { describe, expect, it } from "vitest";
import { type EnvFunction, layered, tableEnvironment } from "../../src/interp/env.ts";
import { heapEnvironment } from "../../src/interp/heap.ts";
import { type InterpEvent, instantiate, loadProgram } from "../../src/interp/index.ts";
import { T } from "../../src/interp/types.ts";
import { cParser } from "../../src/node/c-parser.ts";

const HEAD = `int printf(const char *fmt, ...);
void *kzalloc(unsigned long size, gfp_t flags);
void kfree(const void *p);
`;

async function load(text: string, env = heapEnvironment, config = {}) {
  const { program, problems } = loadProgram(await cParser(), [{ path: "drv.c", text }], { config });
  expect(problems).toEqual([]);
  return instantiate(program, env);
}

async function out(text: string, env = heapEnvironment, config = {}): Promise<string> {
  const m = await load(text, env, config);
  const r = m.call("main");
  if (r.status !== "done") throw new Error(`main did not complete: ${JSON.stringify(r)}`);
  return m.output;
}

/** An environment of locks that records each call with its line. */
function lockEnv(log: string[]): EnvFunction {
  return (call) => {
    log.push(`${call.name}@${call.site.line}`);
    return { k: "void" };
  };
}

describe("interpreter: preprocessor", () => {
  it("expands object-like, function-like, variadic, # and ## macros, and reads #if with a config", async () => {
    const text = `${HEAD}
#define N 4
#define SQ(x) ((x) * (x))
#define CAT(a, b) a##b
#define STR(x) #x
#define LOG(fmt, ...) printf(fmt, ##__VA_ARGS__)
#ifdef CONFIG_FOO
#define WHICH 1
#elif IS_ENABLED(CONFIG_BAR) && N > 3
#define WHICH 2
#else
#define WHICH 3
#endif
int main(void) {
  int CAT(va, lue) = SQ(N + 1);
  LOG("%d %s %d %d\\n", value, STR(a + b), WHICH, IS_ENABLED(CONFIG_BAR));
  LOG("plain\\n");
  return 0;
}`;
    expect(await out(text)).toBe("25 a + b 3 0\nplain\n");
    expect(await out(text, heapEnvironment, { CONFIG_BAR: "m" })).toBe("25 a + b 2 1\nplain\n");
    expect(await out(text, heapEnvironment, { CONFIG_FOO: "y" })).toBe("25 a + b 1 0\nplain\n");
  });

  it("keeps every line where it was: an unknown after a multi-line macro call and a continued #define names its line", async () => {
    const m = await load(`${HEAD}
#define ADD(a, b) \\
	((a) + \\
	 (b))
int f(void)
{
	int x = ADD(1,
		    2);
	return frobnicate(x);
}`);
    expect(m.call("f")).toMatchObject({ status: "unknown", site: { file: "drv.c", line: 12 } });
  });
});

describe("interpreter: kernel idioms", () => {
  it("FIELD_PREP, FIELD_GET, FIELD_FIT, FIELD_MAX and __builtin_ctz/popcount; ctz of 0 is an unknown", async () => {
    expect(
      await out(`${HEAD}
#define FX_MODE GENMASK(6, 4)
int main(void) {
  u32 reg = FIELD_PREP(FX_MODE, 5) | BIT(0);
  printf("%x %u %d %d %u %d %d\\n", reg, (u32)FIELD_GET(FX_MODE, reg), FIELD_FIT(FX_MODE, 7), FIELD_FIT(FX_MODE, 8),
         (u32)FIELD_MAX(FX_MODE), __builtin_ctz(0x40), __builtin_popcountll(0xf0f0ULL));
  return 0;
}`),
    ).toBe("51 5 1 0 7 6 8\n");
    const m = await load(`int f(unsigned int x) { return __builtin_ctz(x); }`);
    expect(m.call("f", [{ k: "int", t: T.uint, v: 0n }])).toMatchObject({
      status: "unknown",
      what: "__builtin_ctz(0), which GCC leaves undefined",
    });
  });

  it("ERR_PTR, IS_ERR, PTR_ERR, IS_ERR_OR_NULL, PTR_ERR_OR_ZERO", async () => {
    expect(
      await out(`${HEAD}
static void *get(int fail) { return fail ? ERR_PTR(-ENODEV) : kzalloc(8, GFP_KERNEL); }
int main(void) {
  void *a = get(1), *b = get(0);
  printf("%d %ld %d %d %d %d\\n", IS_ERR(a), PTR_ERR(a), IS_ERR(b), IS_ERR_OR_NULL(NULL), PTR_ERR_OR_ZERO(a), PTR_ERR_OR_ZERO(b));
  return 0;
}`),
    ).toBe("1 -19 0 1 -19 0\n");
  });

  it("va_start gives a variadic function's arguments after its parameters to the environment; __func__ is its name", async () => {
    const seen: string[] = [];
    const env = layered(
      tableEnvironment({
        sink: (call, m) => {
          const ap = call.args[1];
          const va = ap === undefined ? undefined : m.vaArgs(ap);
          seen.push(
            `${m.cstring(call.args[0] ?? { k: "void" })}: ${(va ?? []).map((v) => (v.k === "int" ? v.v : v.k)).join(",")}`,
          );
          return { k: "void" };
        },
      }),
      heapEnvironment,
    );
    expect(
      await out(
        `${HEAD}
void sink(const char *what, va_list ap);
static void note(int n, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	sink(__func__, args);
	va_end(args);
}
int main(void) {
  note(1, "x", 7, 8, -9);
  note(2, "y");
  printf("%s\n", __func__);
  return 0;
}`,
        env,
      ),
    ).toBe("main\n");
    expect(seen).toEqual(["note: 7,8,-9", "note: "]);
  });

  it("BIT, GENMASK, ARRAY_SIZE, min/max with one evaluation and C's conversions", async () => {
    expect(
      await out(`${HEAD}
int main(void) {
  int a[7], i = 0;
  printf("%lx %lx %lx %lu\\n", BIT(5), GENMASK(7, 4), GENMASK(63, 0), ARRAY_SIZE(a));
  printf("%d %d %u %d\\n", min(3, -2), max(i++, 10), min_t(u32, -1, 5), i);
  return 0;
}`),
    ).toBe("20 f0 ffffffffffffffff 7\n-2 10 5 1\n");
  });

  it("container_of and the list API: add, add_tail, del, iteration, safe deletion while iterating", async () => {
    expect(
      await out(`${HEAD}
struct item { int v; struct list_head node; };
static LIST_HEAD(items);
static struct item *find(int v)
{
	struct item *it;

	list_for_each_entry(it, &items, node)
		if (it->v == v)
			return it;
	return NULL;
}
int main(void)
{
	struct item *it, *tmp;
	for (int i = 1; i <= 4; i++) {
		it = kzalloc(sizeof(*it), GFP_KERNEL);
		it->v = i;
		if (i % 2)
			list_add_tail(&it->node, &items);
		else
			list_add(&it->node, &items);
	}
	list_for_each_entry(it, &items, node)
		printf("%d ", it->v);
	printf("| %d %d |", find(3) == container_of(&find(3)->node, struct item, node), find(5) == NULL);
	list_for_each_entry_safe(it, tmp, &items, node) {
		if (it->v % 2 == 0) {
			list_del(&it->node);
			kfree(it);
		}
	}
	list_for_each_entry_reverse(it, &items, node)
		printf(" %d", it->v);
	printf(" %d\\n", list_empty(&items));
	return 0;
}`),
    ).toBe("4 2 1 3 | 1 1 | 3 1 0\n");
  });

  it("a list entry used after list_del faults on the poisoned pointer, at the posted line", async () => {
    const m = await load(`${HEAD}
struct item { int v; struct list_head node; };
static LIST_HEAD(items);
int main(void)
{
	struct item *it = kzalloc(sizeof(*it), GFP_KERNEL);

	list_add(&it->node, &items);
	list_del(&it->node);
	list_del(&it->node);
	return 0;
}`);
    expect(m.call("main")).toMatchObject({
      status: "fault",
      kind: "bad-pointer",
      detail: "write to unmapped address 0xdead000000000108 (in __list_unlink)",
      site: { file: "drv.c", line: 13 },
    });
  });

  it("dev_err_probe returns its error; of_match_ptr and module_platform_driver leave the driver on record", async () => {
    const m = await load(`${HEAD}
struct drv { const char *name; int (*probe)(void *); };
static int my_probe(void *pdev) { return dev_err_probe(pdev, -EPROBE_DEFER, "no mbox %d\\n", 3); }
static struct drv my_driver = { .name = "stm32-rproc", .probe = my_probe };
module_platform_driver(my_driver);
MODULE_LICENSE("GPL");
EXPORT_SYMBOL_GPL(my_probe);`);
    expect(m.program.globals.map((g) => g.name)).toContain("__interp_module_driver_platform_driver_register");
    expect(
      m.call("my_probe", [{ k: "ptr", t: { k: "ptr", to: { k: "void" } }, addr: 0n, obj: null }]),
    ).toMatchObject({
      status: "done",
      value: { v: -517n },
    });
  });

  it("guard() unlocks at the end of its block and scoped_guard() at the end of its statement, also on return and break", async () => {
    const log: string[] = [];
    const env = layered(
      tableEnvironment({
        mutex_lock: lockEnv(log),
        mutex_unlock: lockEnv(log),
        spin_lock: lockEnv(log),
        spin_unlock: lockEnv(log),
        work: lockEnv(log),
      }),
      heapEnvironment,
    );
    const m = await load(
      `${HEAD}
struct mutex { int owner; };
typedef struct { int raw; } spinlock_t;
void work(void);
static struct mutex lock;
static spinlock_t slock;
int f(int early)
{
	guard(mutex)(&lock);
	if (early)
		return -EINVAL;
	scoped_guard(spinlock, &slock) {
		work();
		if (early == 0)
			break;
		work();
	}
	work();
	return 0;
}`,
      env,
    );
    expect(
      m.call("f", [{ k: "int", t: { k: "int", bits: 32, signed: true, rank: 3, name: "int" }, v: 1n }]),
    ).toMatchObject({
      status: "done",
      value: { v: -22n },
    });
    expect(log).toEqual(["mutex_lock@12", "mutex_unlock@12"]);
    log.length = 0;
    m.call("f", [{ k: "int", t: { k: "int", bits: 32, signed: true, rank: 3, name: "int" }, v: 0n }]);
    expect(log).toEqual([
      "mutex_lock@12",
      "spin_lock@15",
      "work@16",
      "spin_unlock@15",
      "work@21",
      "mutex_unlock@12",
    ]);
  });

  it("__free() frees at the scope's end (return and goto too) unless no_free_ptr/return_ptr took the value", async () => {
    const m = await load(`${HEAD}
struct buf { int v; };
static int fill(int fail)
{
	struct buf *b __free(kfree) = kzalloc(sizeof(*b), GFP_KERNEL);

	if (!b)
		return -12;
	b->v = 7;
	if (fail)
		return -5;
	return b->v;
}
static struct buf *make(void)
{
	struct buf *b __free(kfree) = kzalloc(sizeof(*b), GFP_KERNEL), *other = NULL;

	if (!b)
		return other;
	b->v = 9;
	return_ptr(b);
}
static int jump(void)
{
	int r = 0;
	{
		struct buf *b __free(kfree) = kzalloc(sizeof(*b), GFP_KERNEL);
		void *keep __free(kfree) = kzalloc(4, GFP_KERNEL);
		void *kept = no_free_ptr(keep);

		if (kept)
			goto out;
		r = 1;
	}
out:
	return r;
}
int main(void)
{
	struct buf *b = make();

	printf("%d %d %d %d\\n", fill(1), fill(0), b->v, jump());
	return 0;
}`);
    expect(m.call("main")).toMatchObject({ status: "done" });
    expect(m.output).toBe("-5 7 9 0\n");
    // kzalloc(4)'s object was taken by no_free_ptr; every other but make()'s b is freed.
    const heap = m.mem.all().filter((o) => o.kind === "heap");
    expect(heap.map((o) => `${o.size} ${o.freed}`)).toEqual([
      "4 false",
      "4 true",
      "4 true",
      "4 true",
      "4 false",
    ]);
  });

  it("strncmp compares at most n bytes as unsigned chars, a string's end as its NUL", async () => {
    const o = await out(`${HEAD}
int strncmp(const char *a, const char *b, unsigned long n);
int main(void)
{
	printf("%d %d %d %d %d\\n", strncmp("abc", "abd", 2), strncmp("abc", "abd", 3) < 0,
	       strncmp("ab", "abc", 5) < 0, strncmp("b", "a", 1) > 0, strncmp("x\\xe9", "x\\x41", 2) > 0);
	return 0;
}`);
    expect(o).toBe("0 1 1 1 1\n");
  });

  it("a guard of a lock class it does not know is an unknown naming the class", async () => {
    const m = await load(`${HEAD}
struct rw_semaphore { int c; };
static struct rw_semaphore sem;
int f(void) { guard(rwsem_read_intr)(&sem); return 0; }`);
    expect(m.call("f")).toMatchObject({
      status: "unknown",
      what: "guard(rwsem_read_intr): a lock class the interpreter does not know",
      site: { line: 7 },
    });
  });

  it("each environment call leaves a trace step with the posted file and line, also when an idiom makes it", async () => {
    const log: string[] = [];
    const m = await load(
      `${HEAD}
struct obj { struct list_head node; int v; };
static LIST_HEAD(objs);
int add(void)
{
	struct obj *o = kzalloc(sizeof(*o),
				GFP_KERNEL);

	if (!o)
		return -ENOMEM;
	list_add(&o->node, &objs);
	return 0;
}`,
      layered(tableEnvironment({ noop: lockEnv(log) }), heapEnvironment),
    );
    const events: InterpEvent[] = [];
    m.subscribe((e) => events.push(e));
    expect(m.call("add")).toMatchObject({ status: "done", value: { v: 0n } });
    const calls = events.filter((e) => e.type === "env-call");
    expect(
      calls.map((e) =>
        e.type === "env-call" ? `${e.api}@${e.site.file}:${e.site.line} in ${e.caller}` : "",
      ),
    ).toEqual(["kzalloc@drv.c:9 in add"]);
    const fns = events.filter((e) => e.type === "call").map((e) => (e.type === "call" ? e.fn : ""));
    expect(fns).toEqual(["add"]);
  });
});
