/**
 * A posted rproc_pa_to_va() against the hand model's (semantics/remoteproc_core.ts paToVaSearch): the
 * function is run from C over carveouts this module lays out (mapped or not, I/O or memory, overlapping),
 * at addresses of the modelled platform's 32-bit physical space, and every answer (which carveout, the
 * offset, is_iomem) must be the model's. Only then does the model's walk stand for the posted one where the
 * core runs from the model; a body that answers differently, or that cannot run here, leaves core.paToVa
 * unknown, saying why.
 */
import type { Parser } from "web-tree-sitter";
import { heapEnvironment } from "../../interp/heap.ts";
import { instantiate, loadProgram, type Machine } from "../../interp/index.ts";
import type { Value } from "../../interp/memory.ts";
import { T } from "../../interp/types.ts";
import { int32, intVal } from "../../interp/values.ts";
import { paToVaSearch } from "../remoteproc_core.ts";

/** The carveouts of the check, in list order: the second is not mapped and shadows part of the third. */
const CARVEOUTS: readonly { dma: number; len: number; mapped: boolean; io: boolean }[] = [
  { dma: 0x10000000, len: 0x40, mapped: true, io: false },
  { dma: 0x10000040, len: 0x20, mapped: false, io: false },
  { dma: 0x10000040, len: 0x30, mapped: true, io: true },
  { dma: 0x30000000, len: 0x40, mapped: true, io: false },
];

/** probe_ask's answer: carveout index * SLOT + offset (offsets stay below BACKING < SLOT). */
const SLOT = 4096;

/** Bytes behind each mapped carveout: more than its length, so that even one past its end is its own. */
const BACKING = 0x80;

const ADDRESSES: readonly number[] = [
  0x0, 0x0fffffff, 0x10000000, 0x10000001, 0x1000003f, 0x10000040, 0x10000050, 0x1000006f, 0x10000070,
  0x2fffffff, 0x30000000, 0x30000020, 0x3000003f, 0x30000040, 0xffffffff,
];
const LENGTHS: readonly number[] = [0, 1, 0x10, 0x30, 0x40, 0x41];

/** The check's own layout of the two structures the function walks, and the code that lays out and asks. */
function harness(posted: string): string {
  return `
struct rproc_mem_entry {
	void *va;
	bool is_iomem;
	dma_addr_t dma;
	size_t len;
	u32 da;
	struct list_head node;
	char name[32];
};

struct rproc {
	struct list_head carveouts;
};

${posted}

static struct rproc probe_rproc;
static struct rproc_mem_entry probe_entries[${CARVEOUTS.length}];
static char probe_backing[${CARVEOUTS.length}][${BACKING}];
static bool probe_io;

void probe_add(int i, u64 dma, u64 len, int mapped, int io)
{
	if (i == 0)
		INIT_LIST_HEAD(&probe_rproc.carveouts);
	probe_entries[i].dma = dma;
	probe_entries[i].len = len;
	probe_entries[i].is_iomem = io;
	probe_entries[i].va = mapped ? probe_backing[i] : NULL;
	list_add_tail(&probe_entries[i].node, &probe_rproc.carveouts);
}

/*
 * Carveout index * ${SLOT} + offset of the answer; -1: NULL; -2: a pointer into no carveout's bytes. is_iomem
 * starts as preset (the opposite of the answer expected: a function that does not set it is seen).
 */
long probe_ask(u64 pa, u64 len, int want_io, int preset)
{
	char *p;
	int i;

	probe_io = preset;
	p = rproc_pa_to_va(&probe_rproc, pa, len, want_io ? &probe_io : NULL);

	if (!p)
		return -1;
	for (i = 0; i < ${CARVEOUTS.length}; i++)
		if (p >= probe_backing[i] && p < probe_backing[i] + ${BACKING})
			return i * ${SLOT} + (p - probe_backing[i]);
	return -2;
}

int probe_was_io(void)
{
	return probe_io;
}
`;
}

export type PaToVaCheck = { same: true; probes: number } | { same: false; why: string };

/** Runs the posted `text` of rproc_pa_to_va() (its definition, as the patch adds it) against the model's. */
export function checkPaToVa(parser: Parser, text: string): PaToVaCheck {
  let m: Machine;
  try {
    const { program, problems } = loadProgram(parser, [{ path: "rproc_pa_to_va.c", text: harness(text) }]);
    if (problems.length > 0)
      return { same: false, why: `it cannot be read here (${problems.map((p) => p.what).join("; ")})` };
    m = instantiate(program, heapEnvironment);
  } catch (e) {
    return { same: false, why: `it cannot be read here (${e instanceof Error ? e.message : String(e)})` };
  }
  const u64 = (n: number): Value => intVal(T.ullong, BigInt(n));
  for (const [i, c] of CARVEOUTS.entries()) {
    const r = m.call("probe_add", [
      int32(i),
      u64(c.dma),
      u64(c.len),
      int32(c.mapped ? 1 : 0),
      int32(c.io ? 1 : 0),
    ]);
    if (r.status !== "done")
      return { same: false, why: `the check could not lay out its carveouts (${r.status})` };
  }
  const model = CARVEOUTS.map((c) => ({
    va: c.mapped ? { kind: "io" as const, pa: c.dma } : null,
    dma: c.dma,
    len: c.len,
  }));
  const say = (v: number) =>
    v === -1
      ? "NULL"
      : v === -2
        ? "a pointer into no carveout"
        : `carveout ${Math.floor(v / SLOT)} + 0x${(v % SLOT).toString(16)}`;
  let probes = 0;
  // is_iomem NULL (the function must not write through it) once per address.
  for (const pa of ADDRESSES)
    for (const len of LENGTHS)
      for (const wantIo of len === 0x10 ? [1, 0] : [1]) {
        const at = `pa 0x${pa.toString(16)}, len 0x${len.toString(16)}${wantIo === 0 ? ", is_iomem NULL" : ""}`;
        const hit = paToVaSearch(model, pa, len);
        const io = hit !== null && CARVEOUTS[hit.index]?.io === true;
        const r = m.call("probe_ask", [u64(pa), u64(len), int32(wantIo), int32(io ? 0 : 1)]);
        if (r.status !== "done")
          return {
            same: false,
            why: `run from C at ${at}, it ended ${r.status}${"what" in r ? `: ${r.what}` : ""}`,
          };
        const got = r.value.k === "int" ? Number(r.value.v) : Number.NaN;
        const want = hit === null ? -1 : hit.index * SLOT + hit.off;
        if (got !== want)
          return { same: false, why: `at ${at} it returns ${say(got)} where the model returns ${say(want)}` };
        if (hit !== null && wantIo === 1) {
          const flag = m.call("probe_was_io", []);
          const gotIo = flag.status === "done" && flag.value.k === "int" && flag.value.v !== 0n;
          if (gotIo !== io)
            return { same: false, why: `at ${at} it sets is_iomem ${gotIo} where the model says ${io}` };
        }
        probes++;
      }
  return { same: true, probes };
}
