/**
 * drivers/mailbox/mailbox.c over the emulated IPCC: a device's channels are its node's `mboxes`, named by
 * `mbox-names`; the emulated channel of an entry is the one the DT names (vq0, vq1, shutdown, detach). A
 * channel has one client at a time (-EBUSY for a second); a message waits for the firmware's answer when
 * the client blocks (tx_block: -ETIME when none comes); what the firmware sends reaches the client's
 * rx_callback in interrupt context, until the channel is freed.
 */
import type { MailboxChannel } from "../../emulator/api.ts";
import type { EnvCall } from "../env.ts";
import type { Value } from "../memory.ts";
import { T } from "../types.ts";
import { intVal, NULLP, Unsupported, VOID } from "../values.ts";
import type { EnvModule } from "./kernel.ts";
import { perKernel } from "./state.ts";

const EINVAL = 22;
const EBUSY = 16;
const ENODEV = 19;
const ETIME = 62;

interface Chan {
  readonly key: string;
  readonly name: MailboxChannel;
  /** The client holding it (a struct mbox_client pointer of the C), or null. */
  cl: (Value & { k: "ptr" }) | null;
  ptr: (Value & { k: "ptr" }) | null;
}

interface State {
  readonly chans: Map<string, Chan>;
  listening: boolean;
}

const state = perKernel<State>(() => ({ chans: new Map(), listening: false }));

const CHANNELS: readonly MailboxChannel[] = ["vq0", "vq1", "shutdown", "detach"];

function errPtr(n: number): Value & { k: "ptr" } {
  return { k: "ptr", t: { k: "ptr", to: T.void }, addr: BigInt.asUintN(64, BigInt(n)), obj: null };
}

export const MAILBOX: EnvModule = {
  /** The APIs below that return at once (EnvModule.sync). */
  sync: ["mbox_request_channel_byname", "mbox_send_message", "mbox_free_channel"],
  fns: (env) => {
    const k = env.w.k;
    const listen = (): void => {
      const s = state(env);
      if (s.listening) return;
      s.listening = true;
      env.w.platform.copro.onMailbox((channel) => {
        for (const ch of s.chans.values()) {
          if (ch.name !== channel || ch.cl === null) continue;
          const rx = env.c.getPtr(ch.cl, "mbox_client", "rx_callback");
          if (rx.addr !== 0n) env.runAtomic(`${channel} rx_callback`, rx, [ch.cl, NULLP]);
        }
      });
    };
    const request = (call: EnvCall, cl: Value & { k: "ptr" }, index: number): Value => {
      const dev = env.deviceOf(env.c.getPtr(cl, "mbox_client", "dev"), `${call.name}: cl->dev`);
      k.mightSleep("mutex_lock", call.caller);
      const props = dev.of_node?.props;
      const boxes = props?.get("mboxes");
      const names = props?.get("mbox-names");
      const entry = boxes?.kind === "phandles" ? boxes.values[index] : undefined;
      if (entry === undefined) return errPtr(-ENODEV);
      const dtName = names?.kind === "strings" ? names.values[index] : undefined;
      const name = CHANNELS.find((c) => c === dtName);
      if (name === undefined)
        throw new Unsupported(
          `${call.name}: mailbox ${dtName ?? index}, a channel the emulated IPCC does not have`,
        );
      const s = state(env);
      const key = `${entry.label}:${entry.cells.join(",")}`;
      let ch = s.chans.get(key);
      if (ch === undefined) {
        ch = { key, name, cl: null, ptr: null };
        s.chans.set(key, ch);
      }
      if (ch.cl !== null) return errPtr(-EBUSY);
      ch.cl = cl;
      if (ch.ptr === null) {
        const obj = env.bind(
          env.c.opaque("struct mbox_chan", `mbox channel ${name}`),
          { k: "ext", what: "mbox_chan", data: ch, kobj: null },
          null,
          null,
        );
        ch.ptr = env.c.pointer(obj);
      }
      listen();
      return ch.ptr ?? NULLP;
    };
    const chanOf = (v: Value | undefined, fn: string): Chan | null => {
      if (v === undefined || (v.k === "ptr" && v.addr === 0n)) return null;
      if (v.k === "ptr" && BigInt.asIntN(64, v.addr) < 0n && BigInt.asIntN(64, v.addr) >= -4095n) return null;
      const e = env.extOf<Chan>(v, "mbox_chan");
      if (e === null) throw new Unsupported(`${fn}: not a mailbox channel of the environment`);
      return e.data;
    };
    return {
      /** drivers/mailbox/mailbox.c: mbox_request_channel_byname() — -EINVAL for a name the node lacks */
      mbox_request_channel_byname: (call) => {
        const cl = env.c.ptr(call.args[0], call.name);
        const dev = env.deviceOf(env.c.getPtr(cl, "mbox_client", "dev"), `${call.name}: cl->dev`);
        const want = env.machine.cstring(call.args[1] ?? NULLP);
        const names = dev.of_node?.props.get("mbox-names");
        const i = names?.kind === "strings" ? names.values.indexOf(want) : -1;
        if (i < 0) {
          k.note(
            env.layerOf(call.site.file),
            call.caller,
            "log",
            `err: mbox_request_channel_byname() could not locate channel named "${want}"`,
          );
          return errPtr(-EINVAL);
        }
        return request(call, cl, i);
      },
      /** drivers/mailbox/mailbox.c: mbox_request_channel() */
      mbox_request_channel: (call) => {
        const a = call.args[1];
        return request(call, env.c.ptr(call.args[0], call.name), a?.k === "int" ? Number(a.v) : -1);
      },
      /** drivers/mailbox/mailbox.c: mbox_send_message() — a blocking client waits for the answer */
      mbox_send_message: (call) => {
        const ch = chanOf(call.args[0], call.name);
        if (ch === null || ch.cl === null) return intVal(T.int, BigInt(-EINVAL));
        const block = env.c.getInt(ch.cl, "mbox_client", "tx_block") !== 0n;
        const msg = env.machine.cstring(call.args[1] ?? NULLP);
        if (block) k.mightSleep("wait_for_completion_timeout", call.caller);
        const r = env.w.platform.copro.mailboxSend(ch.name, msg);
        return intVal(T.int, block && r.outcome === "timeout" ? BigInt(-ETIME) : 0n);
      },
      /** drivers/mailbox/mailbox.c: mbox_free_channel() — the client lets the channel go */
      mbox_free_channel: (call) => {
        const ch = chanOf(call.args[0], call.name);
        if (ch !== null) ch.cl = null;
        return VOID;
      },
    };
  },
};
