/**
 * The exported functions of the remoteproc core's files that are not modelled, for the tree's
 * remoteproc_core.c run from C: remoteproc_sysfs.c (the class; its attribute files are how a world drives
 * the core, not these), remoteproc_debugfs.c (a kernel without debugfs: no directory, no trace files, as
 * CONFIG_DEBUG_FS=n gives), remoteproc_coredump.c (the dump segments drivers register, kept on the C's
 * rproc->dump_segments; a dump itself only when rproc->dump_conf enables one, which nothing here can set).
 * remoteproc_cdev.c is not here: without CONFIG_REMOTEPROC_CDEV, remoteproc_internal.h's inline stubs stand.
 */
import { Fault, type Value } from "../memory.ts";
import { T } from "../types.ts";
import { intVal, Unsupported, VOID } from "../values.ts";
import { le, unle } from "./cmem.ts";
import type { EnvModule, KernelEnv } from "./kernel.ts";

const ENODEV = 19;
const ENOMEM = 12;
const EINVAL = 22;
const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
/** gfp.h: GFP_KERNEL (may sleep). */
const GFP_KERNEL = 0xcc0n;

const ret = (n: number): Value => intVal(T.int, BigInt(n));
const errPtr = (errno: number): Value & { k: "ptr" } => ({
  k: "ptr",
  t: { k: "ptr", to: T.void },
  addr: BigInt.asUintN(64, BigInt(-errno)),
  obj: null,
});
const int = (v: Value | undefined, what: string): bigint => {
  if (v === undefined || v.k !== "int") throw new Unsupported(`${what}: an integer was expected`);
  return v.v;
};

/** The address of member `path` of the C struct at `p`. */
function at(env: KernelEnv, p: Value & { k: "ptr" }, tag: string, path: string): bigint {
  return p.addr + BigInt(env.c.member(tag, path).off);
}

export const REMOTEPROC_FILES: EnvModule = {
  /** The APIs below that return at once (EnvModule.sync). */
  sync: [
    "rproc_init_sysfs",
    "rproc_exit_sysfs",
    "rproc_init_debugfs",
    "rproc_exit_debugfs",
    "rproc_create_debug_dir",
    "rproc_delete_debug_dir",
    "rproc_create_trace_file",
    "rproc_remove_trace_file",
    "rproc_coredump_add_segment",
    "rproc_coredump_set_elf_info",
    "rproc_coredump_cleanup",
    "kfree",
    "rproc_coredump",
  ],
  /**
   * The core's functions that drop a callee's failure by design, as the hand model's core says of the same
   * functions: rproc_del shuts down whatever the state (an rproc that is not running gives -EINVAL, and the
   * deletion goes on); the crash handler's recovery failure is reported by the recovery itself.
   */
  ignores: {
    rproc_del: ["rproc_shutdown"],
    rproc_crash_handler_work: ["rproc_trigger_recovery"],
  },
  fns: (env, before) => {
    const k = env.w.k;
    const kfree = before.kfree;
    const note = (fn: string, what: string) => k.note("core", fn, "log", what);
    return {
      /** remoteproc_sysfs.c: rproc_init_sysfs() — class_register(&rproc_class) */
      rproc_init_sysfs: (call) => {
        note(call.name, "class remoteproc registered");
        return ret(0);
      },
      /** remoteproc_sysfs.c: rproc_exit_sysfs() */
      rproc_exit_sysfs: (call) => {
        note(call.name, "class remoteproc unregistered");
        return VOID;
      },
      /** remoteproc_debugfs.c: rproc_init_debugfs() (no debugfs: nothing) */
      rproc_init_debugfs: () => VOID,
      /** remoteproc_debugfs.c: rproc_exit_debugfs() */
      rproc_exit_debugfs: () => VOID,
      /** remoteproc_debugfs.c: rproc_create_debug_dir() (no debugfs root: nothing) */
      rproc_create_debug_dir: () => VOID,
      /** remoteproc_debugfs.c: rproc_delete_debug_dir() */
      rproc_delete_debug_dir: () => VOID,
      /** remoteproc_debugfs.c: rproc_create_trace_file() — debugfs_create_file's ERR_PTR(-ENODEV) */
      rproc_create_trace_file: () => errPtr(ENODEV),
      /** remoteproc_debugfs.c: rproc_remove_trace_file() — debugfs_remove of an error pointer: nothing */
      rproc_remove_trace_file: () => VOID,
      /** remoteproc_coredump.c: rproc_coredump_add_segment() — a segment on rproc->dump_segments */
      rproc_coredump_add_segment: (call) => {
        const r = env.c.ptr(call.args[0], call.name);
        const size = BigInt(env.c.sizeOf("rproc_dump_segment"));
        const seg = env.kmalloc(call, "kzalloc", size, GFP_KERNEL, null);
        if (seg.k !== "ptr" || seg.addr === 0n) return ret(-ENOMEM);
        const m = env.machine;
        m.write(env.addrPtr(at(env, seg, "rproc_dump_segment", "da")), le(64, int(call.args[1], call.name)));
        m.write(
          env.addrPtr(at(env, seg, "rproc_dump_segment", "size")),
          le(64, int(call.args[2], call.name)),
        );
        // list_add_tail(&segment->node, &rproc->dump_segments)
        const head = at(env, r, "rproc", "dump_segments");
        const node = at(env, seg, "rproc_dump_segment", "node");
        const prev = unle(m.read(env.addrPtr(head + 8n), 8));
        m.write(env.addrPtr(node), le(64, head));
        m.write(env.addrPtr(node + 8n), le(64, prev));
        m.write(env.addrPtr(prev), le(64, node));
        m.write(env.addrPtr(head + 8n), le(64, node));
        return ret(0);
      },
      /** remoteproc_coredump.c: rproc_coredump_set_elf_info() */
      rproc_coredump_set_elf_info: (call) => {
        const r = env.c.ptr(call.args[0], call.name);
        const cls = Number(int(call.args[1], call.name));
        if (cls !== ELFCLASS32 && cls !== ELFCLASS64) return ret(-EINVAL);
        env.machine.write(env.addrPtr(at(env, r, "rproc", "elf_class")), le(8, BigInt(cls)));
        env.machine.write(
          env.addrPtr(at(env, r, "rproc", "elf_machine")),
          le(16, int(call.args[2], call.name)),
        );
        return ret(0);
      },
      /** remoteproc_coredump.c: rproc_coredump_cleanup() — frees every segment of rproc->dump_segments */
      rproc_coredump_cleanup: (call) => {
        if (kfree === undefined) throw new Unsupported("rproc_coredump_cleanup: no kfree");
        const r = env.c.ptr(call.args[0], call.name);
        const m = env.machine;
        const head = at(env, r, "rproc", "dump_segments");
        const nodeOff = BigInt(env.c.member("rproc_dump_segment", "node").off);
        let node = unle(m.read(env.addrPtr(head), 8));
        for (let n = 0; node !== head; n++) {
          if (n > 4096) throw new Fault("bad-pointer", "rproc->dump_segments does not come back to its head");
          const next = unle(m.read(env.addrPtr(node), 8));
          kfree({ ...call, name: "kfree", args: [env.addrPtr(node - nodeOff)] });
          node = next;
        }
        m.write(env.addrPtr(head), le(64, head));
        m.write(env.addrPtr(head + 8n), le(64, head));
        return VOID;
      },
      /** remoteproc_coredump.c: rproc_coredump() — nothing unless rproc->dump_conf enables a dump */
      rproc_coredump: (call) => {
        const r = env.c.ptr(call.args[0], call.name);
        const conf = unle(env.machine.read(env.addrPtr(at(env, r, "rproc", "dump_conf")), 4));
        if (conf === 0n) return VOID;
        throw new Unsupported(
          `rproc_coredump with dump_conf ${conf}: the environment writes no device coredump`,
        );
      },
      /** remoteproc_coredump.c: rproc_coredump_using_sections() */
      rproc_coredump_using_sections: () => {
        throw new Unsupported("rproc_coredump_using_sections: the environment writes no device coredump");
      },
    };
  },
};
