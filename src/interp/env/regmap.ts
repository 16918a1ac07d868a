/**
 * drivers/mfd/syscon.c and drivers/base/regmap/regmap.c over the emulated platform: a syscon is the node a
 * phandle names; its registers are plain storage except those the coprocessor node's st,syscfg-* properties
 * name (<&syscon offset mask>), which are the coprocessor's controls: hold boot (a set bit releases the
 * core, as the RCC's boot bit does), PDDS (deep sleep), the M4 state and the resource-table address
 * registers. regmap_update_bits writes only a changed value, as regmap does.
 */
import type { Value } from "../memory.ts";
import { T } from "../types.ts";
import { intVal, Unsupported } from "../values.ts";
import { le } from "./cmem.ts";
import type { EnvModule, KernelEnv } from "./kernel.ts";
import { ofNodeOf } from "./of.ts";
import { perKernel } from "./state.ts";

const ENODEV = 19;

type Role = "holdboot" | "pdds" | "m4-state" | "rsc-tbl";

const ROLES: readonly [string, Role][] = [
  ["st,syscfg-holdboot", "holdboot"],
  ["st,syscfg-pdds", "pdds"],
  ["st,syscfg-m4-state", "m4-state"],
  ["st,syscfg-rsc-tbl", "rsc-tbl"],
];

interface Syscon {
  readonly label: string;
  readonly regs: Map<number, number>;
}

interface State {
  readonly syscons: Map<string, { syscon: Syscon; ptr: Value & { k: "ptr" } }>;
}

const state = perKernel<State>(() => ({ syscons: new Map() }));

/** The control a register of a syscon is, from the st,syscfg-* properties of the world's device nodes. */
function roleOf(env: KernelEnv, label: string, reg: number): { role: Role; mask: number } | null {
  for (const dev of env.w.core.devices) {
    const props = dev.of_node?.props;
    if (props === undefined) continue;
    for (const [prop, role] of ROLES) {
      const p = props.get(prop);
      const v = p?.kind === "phandles" ? p.values[0] : undefined;
      if (v !== undefined && v.label === label && v.cells[0] === reg)
        return { role, mask: v.cells[1] ?? 0xffffffff };
    }
  }
  return null;
}

function read(env: KernelEnv, s: Syscon, reg: number): number {
  const r = roleOf(env, s.label, reg);
  const copro = env.w.platform.copro;
  switch (r?.role) {
    case "holdboot":
      return copro.status().holdBoot ? 0 : r.mask;
    case "pdds":
      return copro.status().pdds ? r.mask : 0;
    case "m4-state":
      return copro.readM4State() >>> 0;
    case "rsc-tbl":
      return copro.readRscTableReg() >>> 0;
    default:
      return s.regs.get(reg) ?? 0;
  }
}

function write(env: KernelEnv, s: Syscon, reg: number, v: number): void {
  const r = roleOf(env, s.label, reg);
  const copro = env.w.platform.copro;
  switch (r?.role) {
    case "holdboot":
      copro.setHoldBoot((v & r.mask) === 0);
      return;
    case "pdds":
      copro.setPdds((v & r.mask) !== 0);
      return;
    case "m4-state":
      copro.writeM4State((v & r.mask) >>> 0);
      return;
    case "rsc-tbl":
      copro.writeRscTableReg((v & r.mask) >>> 0);
      return;
    default:
      s.regs.set(reg, v >>> 0);
  }
}

const int = (v: Value | undefined, what: string): number => {
  if (v === undefined || v.k !== "int") throw new Unsupported(`${what}: an integer was expected`);
  return Number(BigInt.asUintN(32, v.v));
};

export const REGMAP: EnvModule = {
  /** The APIs below that return at once (EnvModule.sync). */
  sync: ["syscon_regmap_lookup_by_phandle", "regmap_read", "regmap_update_bits"],
  fns: (env) => {
    const syscon = (label: string): Value & { k: "ptr" } => {
      const s = state(env);
      let e = s.syscons.get(label);
      if (e === undefined) {
        const sc: Syscon = { label, regs: new Map() };
        const obj = env.bind(
          env.c.opaque("struct regmap", `regmap ${label}`),
          { k: "ext", what: "regmap", data: sc, kobj: null },
          null,
          null,
        );
        e = { syscon: sc, ptr: env.c.pointer(obj) };
        s.syscons.set(label, e);
      }
      return e.ptr;
    };
    const mapOf = (v: Value | undefined, fn: string): Syscon => {
      const e = env.extOf<Syscon>(v, "regmap");
      if (e === null) throw new Unsupported(`${fn}: not a regmap of the environment`);
      return e.data;
    };
    const errPtr = (n: number): Value => ({
      k: "ptr",
      t: { k: "ptr", to: T.void },
      addr: BigInt.asUintN(64, BigInt(n)),
      obj: null,
    });
    return {
      /** drivers/mfd/syscon.c: syscon_regmap_lookup_by_phandle() — -ENODEV without the phandle */
      syscon_regmap_lookup_by_phandle: (call) => {
        const n = ofNodeOf(env, call.args[0], call.name);
        const name = env.machine.cstring(call.args[1] ?? { k: "int", t: T.int, v: 0n });
        const p = n?.props.get(name);
        const v = p?.kind === "phandles" ? p.values[0] : undefined;
        return v === undefined ? errPtr(-ENODEV) : syscon(v.label);
      },
      /** drivers/base/regmap/regmap.c: regmap_read() */
      regmap_read: (call) => {
        const s = mapOf(call.args[0], call.name);
        const v = read(env, s, int(call.args[1], call.name));
        env.machine.write(env.c.ptr(call.args[2], call.name), le(32, v));
        return intVal(T.int, 0n);
      },
      /** drivers/base/regmap/regmap.c: regmap_write() */
      regmap_write: (call) => {
        write(
          env,
          mapOf(call.args[0], call.name),
          int(call.args[1], call.name),
          int(call.args[2], call.name),
        );
        return intVal(T.int, 0n);
      },
      /** drivers/base/regmap/regmap.c: regmap_update_bits() (regmap_update_bits_base, no forced write) */
      regmap_update_bits: (call) => {
        const s = mapOf(call.args[0], call.name);
        const reg = int(call.args[1], call.name);
        const mask = int(call.args[2], call.name);
        const val = int(call.args[3], call.name);
        const orig = read(env, s, reg);
        const tmp = ((orig & ~mask) | (val & mask)) >>> 0;
        if (tmp !== orig) write(env, s, reg, tmp);
        return intVal(T.int, 0n);
      },
    };
  },
};
