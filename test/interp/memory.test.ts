import { describe, expect, it } from "vitest";
import { type EnvFunction, layered, tableEnvironment } from "../../src/interp/env.ts";
import { heapEnvironment } from "../../src/interp/heap.ts";
import type { InterpEvent } from "../../src/interp/interp.ts";
import { intBytes, intFrom, intFromBytes, intTo } from "../../src/interp/memory.ts";
import { type IntType, T } from "../../src/interp/types.ts";
import { machine, run } from "./helpers.ts";

const HEAD = `int printf(const char *fmt, ...);
void *kzalloc(unsigned long size, unsigned int flags);
void *kmalloc(unsigned long size, unsigned int flags);
void *kmemdup(const void *p, unsigned long size, unsigned int flags);
void kfree(const void *p);
void *memset(void *s, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
`;

describe("interpreter: object memory", () => {
  it("allocates zero-filled structs with kzalloc and frees them", async () => {
    const out = await run(
      `${HEAD}
struct ctx { int id; struct ctx *next; char name[8]; };
int main(void) {
  struct ctx *c = kzalloc(sizeof(*c), 0);
  struct ctx *d = kzalloc(sizeof(struct ctx), 0);
  printf("%d %d %d %lu\\n", c->id, c->next == 0, c->name[7], sizeof(*c));
  c->next = d;
  d->id = 42;
  printf("%d\\n", c->next->id);
  kfree(d);
  kfree(c);
  return 0;
}`,
      heapEnvironment,
    );
    expect(out).toBe("0 1 0 24\n42\n");
  });

  it("lays struct layouts over byte buffers, as C casts a firmware image to its headers", async () => {
    // The environment hands the C a byte buffer (a firmware image) it built itself.
    const image = new Uint8Array(32);
    const dv = new DataView(image.buffer);
    image.set([0x7f, 0x45, 0x4c, 0x46]);
    dv.setUint16(4, 0x0102, true);
    dv.setUint32(8, 3, true);
    dv.setUint32(12, 0xdeadbeef, true);
    dv.setBigUint64(16, 0x1122334455667788n, true);
    const getImage: EnvFunction = (_call, m) => {
      const p = m.alloc(image.length, "firmware image", T.uchar);
      m.write(p, image);
      return p;
    };
    const out = await run(
      `${HEAD}
const unsigned char *get_image(void);
struct hdr { unsigned char magic[4]; unsigned short ver; unsigned short pad; unsigned int num; unsigned int offs[1]; unsigned long long entry; };
int main(void) {
  const unsigned char *data = get_image();
  const struct hdr *h = (const struct hdr *)data;
  const unsigned int *words = (const unsigned int *)(data + 8);
  unsigned char *copy = kmemdup(data, 32, 0);
  struct hdr *w = (struct hdr *)copy;
  w->num = 7;
  memset(copy, 0, 4);
  printf("%c%c%c %x %u %x %llx %u\\n", h->magic[1], h->magic[2], h->magic[3], h->ver, h->num, h->offs[0], h->entry, words[0]);
  printf("%u %u %d\\n", w->num, copy[8], copy[0]);
  kfree(copy);
  return 0;
}`,
      layered(tableEnvironment({ get_image: getImage }), heapEnvironment),
    );
    expect(out).toBe("ELF 102 3 deadbeef 1122334455667788 3\n7 7 0\n");
  });

  it("keeps pointers stored in memory pointing to their objects (lists of heap nodes)", async () => {
    const out = await run(
      `${HEAD}
struct node { int v; struct node *next; };
int main(void) {
  struct node *head = 0;
  for (int i = 1; i <= 4; i++) {
    struct node *n = kzalloc(sizeof(*n), 0);
    n->v = i * i;
    n->next = head;
    head = n;
  }
  int s = 0;
  while (head) {
    struct node *next = head->next;
    s = s * 100 + head->v;
    kfree(head);
    head = next;
  }
  printf("%d\\n", s);
  return 0;
}`,
      heapEnvironment,
    );
    expect(out).toBe("16090401\n");
  });

  it("reports a use after free and a double free as events, naming the object and where it was freed", async () => {
    const m = await machine(
      `${HEAD}
struct obj { int v; };
int uaf(void) {
  struct obj *o = kzalloc(sizeof(*o), 0);
  kfree(o);
  kfree(o);
  return o->v;
}`,
      heapEnvironment,
    );
    const events: InterpEvent[] = [];
    m.subscribe((e) => events.push(e));
    expect(m.call("uaf")).toMatchObject({ status: "done" });
    const mem = events.filter((e) => e.type === "mem");
    expect(mem.map((e) => (e.type === "mem" ? [e.e.type, e.site.line] : []))).toEqual([
      ["free", 12],
      ["free", 13],
      ["use-after-free", 14],
    ]);
    const second = mem[1];
    expect(second?.type === "mem" && second.e.type === "free" && second.e.already).toBe(true);
    expect(second?.type === "mem" ? second.e.obj.freedAt : null).toBe("uaf (test.c:12)");
  });

  it("stops with a fault at the line of a NULL dereference or an access outside the object", async () => {
    const m = await machine(
      `${HEAD}
struct obj { int v[2]; };
int null_deref(struct obj *o) { return o->v[0]; }
int oob(void) {
  struct obj *o = kzalloc(sizeof(*o), 0);
  int *p = o->v;
  return p[2];
}`,
      heapEnvironment,
    );
    expect(
      m.call("null_deref", [{ k: "ptr", t: { k: "ptr", to: T.void }, addr: 0n, obj: null }]),
    ).toMatchObject({
      status: "fault",
      kind: "null-deref",
      site: { line: 10 },
    });
    expect(m.call("oob")).toMatchObject({
      status: "fault",
      kind: "out-of-bounds",
      detail: expect.stringMatching(/read of 4 bytes at offset 8 of kzalloc\(8\)/),
      site: { line: 14 },
    });
  });

  it("keeps a local whose address is never taken as a value, and it behaves as the bytes would", async () => {
    // p is a register (no &p in its function), q lives in memory (&q is taken): every result agrees, a
    // pointer's object is found again from its address as a load from memory finds it.
    const m = await machine(
      `${HEAD}
int walk(int k) {
  int a[4] = { 1, 2, 3, 4 };
  int *p = a, *q = a, **qq = &q;
  p += k; *qq += k;
  return *p * 10 + *q;
}
int narrow(void) {
  _Bool b = 5; unsigned char c = 255; signed char s = 127; int u;
  c++; s++;
  return b * 1000 + c * 100 + (s == -128) * 10 + u;
}
int plain(int n) { int i, s = 0; for (i = 0; i < n; i++) s += i; return s; }`,
      heapEnvironment,
    );
    expect(m.call("walk", [{ k: "int", t: T.int, v: 1n }])).toMatchObject({
      status: "done",
      value: { v: 22n },
    });
    expect(m.call("walk", [{ k: "int", t: T.int, v: 4n }])).toMatchObject({
      status: "fault",
      kind: "out-of-bounds",
      detail: expect.stringMatching(/read of 4 bytes at offset 16 of a \(16 bytes\)/),
    });
    expect(m.call("narrow")).toMatchObject({ status: "done", value: { v: 1010n } });
    const locals = (): number => m.mem.all().filter((o) => o.kind === "local").length;
    const before = locals();
    expect(m.call("plain", [{ k: "int", t: T.int, v: 5n }])).toMatchObject({ value: { v: 10n } });
    expect(locals()).toBe(before);
  });

  it("keeps p and i as values when only &p->m or &a[i] is taken, and x in memory for &x.m", async () => {
    const m = await machine(
      `${HEAD}
struct pt { int x; int y; };
int touch(int *v) { *v += 1; return *v; }
int members(struct pt *p, int i) {
  int a[3] = { 1, 2, 3 };
  touch(&p->y);
  touch(&a[i]);
  return p->y * 10 + a[i];
}
int whole(void) { struct pt x = { 1, 2 }; touch(&x.y); return x.y; }`,
      heapEnvironment,
    );
    const p = m.alloc(8, "pt");
    const locals = (): string[] =>
      m.mem
        .all()
        .filter((o) => o.kind === "local")
        .map((o) => o.label);
    const before = locals().length;
    expect(m.call("members", [p, { k: "int", t: T.int, v: 2n }])).toMatchObject({
      status: "done",
      value: { v: 14n },
    });
    // Only the array is an object (a); p, i and touch's v stay values.
    expect(locals().slice(before)).toEqual(["a"]);
    expect(m.call("whole")).toMatchObject({ status: "done", value: { v: 3n } });
    expect(locals().slice(before + 1)).toEqual(["x"]);
  });

  it("faults on a write through a pointer to a string literal (.rodata), and reads it as C does", async () => {
    const m = await machine(
      `${HEAD}
int first(void) { const char *s = "abc"; return s[1]; }
int scribble(void) { char *s = (char *)"abc"; s[0] = 'x'; return 0; }`,
      heapEnvironment,
    );
    expect(m.call("first")).toMatchObject({ status: "done", value: { v: 98n } });
    expect(m.call("scribble")).toMatchObject({
      status: "fault",
      kind: "read-only",
      site: { line: 10 },
    });
  });

  it("decodes and encodes the integers hooks give and take as a DataView does, at every width", () => {
    const types: IntType[] = [T.char, T.uchar, T.short, T.ushort, T.int, T.uint, T.long, T.ulong];
    const values = [0n, 1n, -1n, 127n, 128n, 255n, 256n, -129n, 0x7fffn, 0x8000n, 0xffffn, 0x7fff_ffffn];
    values.push(
      0x8000_0000n,
      0xffff_ffffn,
      -(2n ** 31n),
      2n ** 63n - 1n,
      -(2n ** 63n),
      0xffff_8880_0000_1000n,
    );
    for (const t of types)
      for (const v of values) {
        const bytes = intBytes(t.bits, v);
        const d = new DataView(new ArrayBuffer(t.bits / 8));
        intTo(d, 0, t.bits, v);
        expect([...bytes]).toEqual([...new Uint8Array(d.buffer)]);
        expect(intFromBytes(bytes, t)).toBe(intFrom(d, 0, t));
      }
  });
});
