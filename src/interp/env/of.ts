/**
 * drivers/of/base.c, property.c, platform.c and of_reserved_mem.c over the hand model's device tree
 * (src/semantics/devicetree.ts): a node of the model, its parent bus (whose dma-ranges the model keeps on the
 * node), the nodes its phandles name (a /reserved-memory region, a syscon, a mailbox or reset controller)
 * are struct device_node objects whose name the C reads; properties are read from the model with the
 * kernel's return conventions (-EINVAL absent, -ENODATA without a value, -EOVERFLOW too short).
 */
import type { Device } from "../../semantics/device.ts";
import type { DtNode, DtProp, ReservedMemory } from "../../semantics/devicetree.ts";
import type { EnvCall } from "../env.ts";
import type { Obj, Value } from "../memory.ts";
import { T } from "../types.ts";
import { intVal, NULLP, ptrInto, Unsupported, VOID } from "../values.ts";
import { le, type Served } from "./cmem.ts";
import type { EnvModule, KernelEnv } from "./kernel.ts";
import { perKernel } from "./state.ts";

const EINVAL = 22;
const ENOENT = 2;
const ENODATA = 61;
const EOVERFLOW = 75;
const EILSEQ = 84;

/** A node of the device tree as the environment shows it to the C. */
export interface OfNode {
  readonly name: string;
  readonly props: ReadonlyMap<string, DtProp>;
  readonly parent: OfNode | null;
  /** The model's node, when this is the coprocessor node itself. */
  readonly dt: DtNode | null;
  /** The /reserved-memory region this node is, when a memory-region phandle names it. */
  readonly rmem: ReservedMemory | null;
  /** The node's phandle (0 when nothing refers to it). */
  readonly phandle: number;
}

interface State {
  readonly byDt: Map<DtNode, OfNode>;
  /** Nodes phandles name, by label (one per world: every reference to "rcc" is the same node). */
  readonly byLabel: Map<string, OfNode>;
  readonly objs: Map<OfNode, Obj>;
  readonly iterators: Map<
    bigint,
    { node: OfNode; entries: { label: string; cells: number[] }[]; at: number }
  >;
  readonly parents: Map<OfNode, Obj>;
  nextPhandle: number;
}

const state = perKernel<State>(() => ({
  byDt: new Map(),
  byLabel: new Map(),
  objs: new Map(),
  iterators: new Map(),
  parents: new Map(),
  nextPhandle: 1,
}));

/** The node of the model's coprocessor node (its parent: the bus node with the model's dma-ranges). */
export function ofNode(env: KernelEnv, dt: DtNode): OfNode {
  const s = state(env);
  let n = s.byDt.get(dt);
  if (n === undefined) {
    // The bus the coprocessor sits on (ST's trees call it mlahb): only its dma-ranges are the model's.
    const bus: OfNode = {
      name: "mlahb",
      props: new Map<string, DtProp>([
        ["dma-ranges", { kind: "u32", values: dt.parentDmaRanges.flatMap((r) => [r.da, r.pa, r.size]) }],
      ]),
      parent: null,
      dt: null,
      rmem: null,
      phandle: 0,
    };
    n = { name: dt.name, props: dt.props, parent: bus, dt, rmem: null, phandle: 0 };
    s.byDt.set(dt, n);
  }
  return n;
}

/** The node a phandle of `from`'s properties names, by its label. */
export function phandleNode(env: KernelEnv, from: OfNode, label: string): OfNode {
  const s = state(env);
  let n = s.byLabel.get(label);
  if (n === undefined) {
    n = {
      name: label,
      props: new Map(),
      parent: null,
      dt: null,
      rmem: from.dt?.reservedMemory.get(label) ?? null,
      phandle: s.nextPhandle++,
    };
    s.byLabel.set(label, n);
  }
  return n;
}

/** The struct device_node pointer of a node. */
export function ofNodePtr(env: KernelEnv, n: OfNode | null): Value & { k: "ptr" } {
  if (n === null) return NULLP;
  const s = state(env);
  let obj = s.objs.get(n);
  if (obj === undefined) {
    obj = env.bind(
      env.c.served("device_node", `device_node ${n.name}`, {
        name: { get: () => le(64, env.stringPtr(n.name).addr) },
        full_name: { get: () => le(64, env.stringPtr(n.name).addr) },
        phandle: { get: () => le(32, n.phandle) },
        parent: { get: () => le(64, ofNodePtr(env, n.parent).addr) },
      }),
      { k: "ext", what: "device_node", data: n, kobj: null },
      null,
      null,
    );
    s.objs.set(n, obj);
  }
  return ptrInto(obj, 0, T.void);
}

/** The node behind a struct device_node pointer; NULL is null. */
export function ofNodeOf(env: KernelEnv, v: Value | undefined, what: string): OfNode | null {
  if (v === undefined || (v.k === "ptr" && v.addr === 0n)) return null;
  const e = env.extOf<OfNode>(v, "device_node");
  if (e === null || e.off !== 0)
    throw new Unsupported(`${what}: not a struct device_node of the device tree`);
  return e.data;
}

/** The node of a device (dev->of_node). */
export function deviceNode(env: KernelEnv, dev: Device): OfNode | null {
  return dev.of_node === null ? null : ofNode(env, dev.of_node);
}

/** A property's u32 cells (a phandle list: each phandle's value, then its cells); null when not cells. */
export function cellsOf(env: KernelEnv, n: OfNode, p: DtProp): number[] | null {
  switch (p.kind) {
    case "flag":
      return [];
    case "u32":
      return p.values;
    case "phandles":
      return p.values.flatMap((v) => [phandleNode(env, n, v.label).phandle, ...v.cells]);
    case "strings":
      return null;
  }
}

function bytesOf(p: DtProp): number {
  if (p.kind === "strings") return p.values.reduce((a, v) => a + new TextEncoder().encode(v).length + 1, 0);
  if (p.kind === "flag") return 0;
  if (p.kind === "u32") return 4 * p.values.length;
  return 4 * p.values.reduce((a, v) => a + 1 + v.cells.length, 0);
}

const int = (v: Value | undefined, what: string): bigint => {
  if (v === undefined || v.k !== "int") throw new Unsupported(`${what}: an integer was expected`);
  return v.v;
};

const ret = (n: number): Value => intVal(T.int, BigInt(n));

/** The device of a platform device's parent bus: a struct device whose of_node is the bus node. */
function parentDevicePtr(env: KernelEnv, n: OfNode): Value & { k: "ptr" } {
  const s = state(env);
  const bus = n.parent;
  if (bus === null) return NULLP;
  let obj = s.parents.get(bus);
  if (obj === undefined) {
    obj = env.bind(
      env.c.served("device", `device ${bus.name}`, {
        of_node: { get: () => le(64, ofNodePtr(env, bus).addr) },
        init_name: { get: () => le(64, env.stringPtr(bus.name).addr) },
      }),
      { k: "ext", what: "bus device", data: bus, kobj: null },
      null,
      null,
    );
    s.parents.set(bus, obj);
  }
  return ptrInto(obj, 0, T.void);
}

export const OF: EnvModule = {
  /** The APIs below that return at once (EnvModule.sync). */
  sync: [
    "of_property_read_bool",
    "of_property_read_u32_index",
    "of_property_read_variable_u32_array",
    "of_property_count_elems_of_size",
    "of_device_is_compatible",
    "of_phandle_iterator_init",
    "of_phandle_iterator_next",
    "of_reserved_mem_lookup",
  ],
  deviceMembers: (env, dev, tag): Record<string, Served> => {
    if (tag !== "platform_device") return {};
    const n = deviceNode(env, dev);
    return {
      "dev.of_node": { get: () => le(64, ofNodePtr(env, n).addr) },
      "dev.parent": { get: () => le(64, n === null ? 0n : parentDevicePtr(env, n).addr) },
    };
  },
  fns: (env) => {
    const node = (call: EnvCall): OfNode | null => ofNodeOf(env, call.args[0], call.name);
    const prop = (call: EnvCall, i = 1): { n: OfNode | null; name: string; p: DtProp | undefined } => {
      const n = node(call);
      const name = env.machine.cstring(call.args[i] ?? NULLP);
      return { n, name, p: n?.props.get(name) };
    };
    const writeU32 = (p: Value | undefined, v: number, what: string): void =>
      env.machine.write(env.c.ptr(p, what), le(32, v));
    return {
      /** drivers/of/property.c: of_property_read_bool() (a property present) */
      of_property_read_bool: (call) => intVal(T.bool, prop(call).p !== undefined ? 1n : 0n),
      /** include/linux/of.h: of_property_present() */
      of_property_present: (call) => intVal(T.bool, prop(call).p !== undefined ? 1n : 0n),
      /** drivers/of/property.c: of_property_read_u32_index() */
      of_property_read_u32_index: (call) => {
        const { n, p } = prop(call);
        if (n === null || p === undefined) return ret(-EINVAL);
        const cells = cellsOf(env, n, p);
        if (cells === null || cells.length === 0) return ret(-ENODATA);
        const i = Number(int(call.args[2], call.name));
        const v = cells[i];
        if (v === undefined) return ret(-EOVERFLOW);
        writeU32(call.args[3], v, call.name);
        return ret(0);
      },
      /** drivers/of/property.c: of_property_read_variable_u32_array() — the number of values read */
      of_property_read_variable_u32_array: (call) => {
        const { n, p } = prop(call);
        if (n === null || p === undefined) return ret(-EINVAL);
        const cells = cellsOf(env, n, p);
        if (cells === null || cells.length === 0) return ret(-ENODATA);
        const min = Number(int(call.args[3], call.name));
        const max = Number(int(call.args[4], call.name));
        if (cells.length < min) return ret(-EOVERFLOW);
        const count = max === 0 ? min : Math.min(cells.length, max);
        const out = env.c.ptr(call.args[2], call.name);
        for (let i = 0; i < count; i++)
          env.machine.write({ ...out, addr: out.addr + BigInt(4 * i) }, le(32, cells[i] ?? 0));
        return ret(count);
      },
      /** drivers/of/property.c: of_property_count_elems_of_size() */
      of_property_count_elems_of_size: (call) => {
        const { n, p } = prop(call);
        if (n === null || p === undefined) return ret(-EINVAL);
        const size = Number(int(call.args[2], call.name));
        const bytes = bytesOf(p);
        if (size <= 0 || bytes % size !== 0) return ret(-EINVAL);
        return ret(bytes / size);
      },
      /** drivers/of/property.c: of_property_read_string() */
      of_property_read_string: (call) => {
        const { p } = prop(call);
        if (p === undefined) return ret(-EINVAL);
        if (p.kind !== "strings" || p.values[0] === undefined) return ret(-EILSEQ);
        env.c.writePtr(env.c.ptr(call.args[2], call.name), env.stringPtr(p.values[0]));
        return ret(0);
      },
      /** drivers/of/property.c: of_property_match_string() — the index of the string */
      of_property_match_string: (call) => {
        const { p } = prop(call);
        if (p === undefined) return ret(-EINVAL);
        if (p.kind !== "strings") return ret(-EILSEQ);
        const want = env.machine.cstring(call.args[2] ?? NULLP);
        const i = p.values.indexOf(want);
        return ret(i < 0 ? -ENODATA : i);
      },
      /** drivers/of/base.c: of_device_is_compatible() — a positive score when it is */
      of_device_is_compatible: (call) => {
        const n = node(call);
        const want = env.machine.cstring(call.args[1] ?? NULLP);
        const p = n?.props.get("compatible");
        return ret(p?.kind === "strings" && p.values.includes(want) ? 1 : 0);
      },
      /** drivers/of/base.c: of_parse_phandle() */
      of_parse_phandle: (call) => {
        const { n, p } = prop(call);
        const i = Number(int(call.args[2], call.name));
        if (n === null || p?.kind !== "phandles") return NULLP;
        const v = p.values[i];
        return v === undefined ? NULLP : ofNodePtr(env, phandleNode(env, n, v.label));
      },
      /** drivers/of/base.c: of_phandle_iterator_init() (cell counts are the model's: each entry's own) */
      of_phandle_iterator_init: (call) => {
        const it = env.c.ptr(call.args[0], call.name);
        const n = ofNodeOf(env, call.args[1], call.name);
        const name = env.machine.cstring(call.args[2] ?? NULLP);
        env.c.writePtr(env.c.at(it, "of_phandle_iterator", "node"), NULLP);
        const p = n?.props.get(name);
        if (n === null || p?.kind !== "phandles") return ret(-ENOENT);
        state(env).iterators.set(it.addr, { node: n, entries: p.values, at: 0 });
        return ret(0);
      },
      /** drivers/of/base.c: of_phandle_iterator_next() — it->node is the next node, -ENOENT at the end */
      of_phandle_iterator_next: (call) => {
        const it = env.c.ptr(call.args[0], call.name);
        const st = state(env).iterators.get(it.addr);
        if (st === undefined)
          throw new Unsupported(`${call.name} of an iterator of_phandle_iterator_init did not start`);
        const e = st.entries[st.at];
        const nodeAt = env.c.at(it, "of_phandle_iterator", "node");
        if (e === undefined) {
          env.c.writePtr(nodeAt, NULLP);
          return ret(-ENOENT);
        }
        st.at += 1;
        const target = phandleNode(env, st.node, e.label);
        env.c.writePtr(nodeAt, ofNodePtr(env, target));
        env.c.setInt(it, "of_phandle_iterator", "phandle", BigInt(target.phandle));
        env.c.setInt(it, "of_phandle_iterator", "cur_count", BigInt(e.cells.length));
        return ret(0);
      },
      /** drivers/of/dynamic.c: of_node_get() (the model's nodes live as long as the world) */
      of_node_get: (call) => call.args[0] ?? NULLP,
      /** drivers/of/dynamic.c: of_node_put() (the model's nodes live as long as the world) */
      of_node_put: () => VOID,
      /** drivers/of/of_reserved_mem.c: of_reserved_mem_lookup() — NULL for a node that is no region */
      of_reserved_mem_lookup: (call) => {
        const n = ofNodeOf(env, call.args[0], call.name);
        if (n?.rmem === null || n === null) return NULLP;
        return reservedMemPtr(env, n.rmem as ReservedMemory);
      },
    };
  },
};

const rmemObjs = perKernel(() => new Map<ReservedMemory, Obj>());

function reservedMemPtr(env: KernelEnv, r: ReservedMemory): Value & { k: "ptr" } {
  const m = rmemObjs(env);
  let obj = m.get(r);
  if (obj === undefined) {
    obj = env.bind(
      env.c.served("reserved_mem", `reserved_mem ${r.label}`, {
        name: { get: () => le(64, env.stringPtr(r.label).addr) },
        base: { get: () => le(64, r.base) },
        size: { get: () => le(64, r.size) },
      }),
      { k: "ext", what: "reserved_mem", data: r, kobj: null },
      null,
      null,
    );
    m.set(r, obj);
  }
  return ptrInto(obj, 0, T.void);
}
