/**
 * A small typed device-tree model: the coprocessor node the STM32 remoteproc driver probes, its parent's
 * dma-ranges and the reserved-memory regions its memory-region list names. Builders give the reference DT of a
 * compatible (as ST's board trees write it: resets present, auto-boot off) and the DT exactly as a binding
 * requires (forbidden properties removed, required ones present).
 */
import type { MemoryRegion } from "../emulator/api.ts";

export type DtProp =
  | { kind: "flag" }
  | { kind: "u32"; values: number[] }
  | { kind: "strings"; values: string[] }
  /** Phandle references (by label), e.g. resets, mboxes, memory-region, syscons (label + cells). */
  | { kind: "phandles"; values: { label: string; cells: number[] }[] };

export interface ReservedMemory {
  label: string;
  base: number;
  size: number;
}

export interface DtNode {
  /** Node name without unit address (the rproc name derives from it). */
  name: string;
  unitAddress: number;
  props: Map<string, DtProp>;
  /** The parent bus node's dma-ranges as (device address, bus address, size). */
  parentDmaRanges: { da: number; pa: number; size: number }[];
  /** /reserved-memory children, by label. */
  reservedMemory: Map<string, ReservedMemory>;
}

/** of_property_read_bool */
export function of_property_read_bool(np: DtNode, name: string): boolean {
  return np.props.has(name);
}

/** of_property_read_u32: the value, or null when absent or not a u32 cell. */
export function of_property_read_u32(np: DtNode, name: string): number | null {
  const p = np.props.get(name);
  return p?.kind === "u32" && p.values[0] !== undefined ? p.values[0] : null;
}

/** of_property_read_string_array */
export function of_property_read_strings(np: DtNode, name: string): string[] {
  const p = np.props.get(name);
  return p?.kind === "strings" ? p.values : [];
}

/** Phandle list of a property (memory-region, resets, mboxes, st,syscfg-*). */
export function of_parse_phandles(np: DtNode, name: string): { label: string; cells: number[] }[] {
  const p = np.props.get(name);
  return p?.kind === "phandles" ? p.values : [];
}

export function compatibleOf(np: DtNode): string {
  return of_property_read_strings(np, "compatible")[0] ?? "";
}

const syscon = (label: string, ...cells: number[]): DtProp => ({
  kind: "phandles",
  values: [{ label, cells }],
});

export interface ReferenceDtOptions {
  /** The "st,auto-boot" flag (off in every scenario's reference DT). */
  autoBoot?: boolean;
  /** Value of the processor-id property when the compatible has one. */
  procId?: number;
  /** Name of the processor-id property ("st,proc-id"), or null when the design has none. */
  procIdProperty?: string | null;
}

/**
 * The reference DT of a coprocessor node as ST's board trees write it: memory-region over every platform
 * region, mailboxes vq0/vq1/shutdown/detach, the watchdog interrupt with wakeup-source, the syscons (hold boot,
 * PDDS, M4 state, resource-table address) and the MCU reset.
 */
export function referenceDt(
  compatible: string,
  regions: readonly MemoryRegion[],
  opts: ReferenceDtOptions = {},
): DtNode {
  const props = new Map<string, DtProp>([
    ["compatible", { kind: "strings", values: [compatible] }],
    ["reg", { kind: "u32", values: regions.filter((r) => r.firmware).flatMap((r) => [r.pa, r.size]) }],
    ["resets", { kind: "phandles", values: [{ label: "rcc", cells: [0x8a] }] }],
    ["reset-names", { kind: "strings", values: ["mcu_rst"] }],
    ["st,syscfg-holdboot", syscon("rcc", 0x10c, 0x1)],
    ["st,syscfg-pdds", syscon("pwr_mcu", 0x0, 0x1)],
    ["st,syscfg-m4-state", syscon("tamp", 0x148, 0xffffffff)],
    ["st,syscfg-rsc-tbl", syscon("tamp", 0x144, 0xffffffff)],
    ["memory-region", { kind: "phandles", values: regions.map((r) => ({ label: r.name, cells: [] })) }],
    ["mboxes", { kind: "phandles", values: [0, 1, 2, 3].map((c) => ({ label: "ipcc", cells: [c] })) }],
    ["mbox-names", { kind: "strings", values: ["vq0", "vq1", "shutdown", "detach"] }],
    ["interrupts", { kind: "u32", values: [68, 1] }],
    ["wakeup-source", { kind: "flag" }],
  ]);
  if (opts.autoBoot === true) props.set("st,auto-boot", { kind: "flag" });
  if (opts.procIdProperty) props.set(opts.procIdProperty, { kind: "u32", values: [opts.procId ?? 0] });
  return {
    name: "m4",
    unitAddress: (regions.find((r) => r.firmware && r.da !== 0) ?? regions[0])?.pa ?? 0,
    props,
    parentDmaRanges: regions.map((r) => ({ da: r.da, pa: r.pa, size: r.size })),
    reservedMemory: new Map(regions.map((r) => [r.name, { label: r.name, base: r.pa, size: r.size }])),
  };
}

/** The DT exactly as a binding requires: `forbids` removed; each of `requires` present (added if missing). */
export function bindingDt(
  base: DtNode,
  forbids: readonly string[],
  requires: readonly string[],
  procId: number,
): DtNode {
  const props = new Map(base.props);
  for (const name of forbids) props.delete(name);
  for (const name of requires) if (!props.has(name)) props.set(name, { kind: "u32", values: [procId] });
  return { ...base, props };
}
