/** The TA as the Linux client drives it: commands, state machine (spec §3.3), sessions, shm, faults, events. */
import { beforeEach, describe, expect, it } from "vitest";
import {
  assembleImage,
  createPlatform,
  type EmulatorEvent,
  type Fixtures,
  inspectImage,
  loadFixtures,
  type Platform,
  TA_CMD,
  TEE_RESULT,
  type TeeParam,
  TLV,
  teeResultName,
} from "../../src/emulator/api.ts";
import { concat } from "../../src/emulator/bytes.ts";

const id: TeeParam = { type: "value-in", a: 0, b: 0 };
const out: TeeParam = { type: "value-out", a: 0, b: 0 };

let fx: Fixtures;
let platform: Platform;
let session: number;
let events: EmulatorEvent[];

async function cmd(c: number, extra: TeeParam[] = []): Promise<string> {
  return teeResultName((await platform.ta.invoke(session, c, [id, ...extra])).result);
}

async function load(image: Uint8Array): Promise<string> {
  const shm = platform.ta.registerShm(image);
  const r = await cmd(TA_CMD.LOAD_FW, [{ type: "memref-in", shm }]);
  platform.ta.freeShm(shm);
  return r;
}

beforeEach(async () => {
  fx = await loadFixtures();
  events = [];
  platform = await createPlatform("stm32mp15", {
    keys: [fx.keys.rsaPublicPem],
    onEvent: (e) => events.push(e),
  });
  session = (await platform.ta.openSession(0)).session;
});

describe("TA state machine", () => {
  it("commands other than LOAD need a context (BAD_PARAMETERS before the first LOAD)", async () => {
    for (const c of [TA_CMD.START_FW, TA_CMD.STOP_FW, TA_CMD.RELEASE_FW])
      expect(await cmd(c)).toBe("TEE_ERROR_BAD_PARAMETERS");
    expect(await cmd(TA_CMD.GET_RSC_TABLE, [out, out])).toBe("TEE_ERROR_BAD_PARAMETERS");
    expect(platform.ta.state(0)).toBeNull();
  });

  it("a failed LOAD still creates the context, in OFF", async () => {
    expect(await load(fx.stm32mp15.badSignature)).toBe("TEE_ERROR_SIGNATURE_INVALID");
    expect(platform.ta.state(0)).toBe("OFF");
    expect(await cmd(TA_CMD.START_FW)).toBe("TEE_ERROR_BAD_STATE");
    expect(await cmd(TA_CMD.STOP_FW)).toBe("SUCCESS");
    expect(await cmd(TA_CMD.GET_RSC_TABLE, [out, out])).toBe("TEE_ERROR_BAD_STATE");
  });

  it("LOADED: a second LOAD is a silent success, even of a corrupt image; STOP is BAD_STATE", async () => {
    expect(await load(fx.stm32mp15.good)).toBe("SUCCESS");
    expect(await load(new Uint8Array(7))).toBe("SUCCESS");
    expect(await cmd(TA_CMD.STOP_FW)).toBe("TEE_ERROR_BAD_STATE");
    const r = await platform.ta.invoke(session, TA_CMD.GET_RSC_TABLE, [id, out, out]);
    expect(r.params[1]).toEqual({ type: "value-out", a: 0x10000100, b: 0 });
    expect(r.params[2]?.type === "value-out" && r.params[2].a).toBeGreaterThan(16);
  });

  it("STARTED: START again succeeds, LOAD and RELEASE are BAD_STATE, STOP goes back to OFF", async () => {
    await load(fx.stm32mp15.good);
    expect(await cmd(TA_CMD.START_FW)).toBe("SUCCESS");
    expect(platform.ta.state(0)).toBe("STARTED");
    expect(await cmd(TA_CMD.START_FW)).toBe("SUCCESS");
    expect(await load(fx.stm32mp15.good)).toBe("TEE_ERROR_BAD_STATE");
    expect(await cmd(TA_CMD.RELEASE_FW)).toBe("TEE_ERROR_BAD_STATE");
    expect(await cmd(TA_CMD.STOP_FW)).toBe("SUCCESS");
    expect(platform.ta.state(0)).toBe("OFF");
    expect(await cmd(TA_CMD.GET_RSC_TABLE, [out, out])).toBe("TEE_ERROR_BAD_STATE");
  });

  it("STOP keeps memory, RELEASE wipes it", async () => {
    await load(fx.stm32mp15.good);
    await cmd(TA_CMD.START_FW);
    await cmd(TA_CMD.STOP_FW);
    expect(platform.peek(0x10000000, 8).some((b) => b !== 0)).toBe(true);
    expect(await cmd(TA_CMD.RELEASE_FW)).toBe("SUCCESS");
    expect(platform.peek(0x10000000, 0x200).every((b) => b === 0)).toBe(true);
    expect(platform.peek(0x38000000, 8).every((b) => b === 0)).toBe(true);
  });

  it("GET_COREDUMP is not implemented, unknown commands are BAD_PARAMETERS", async () => {
    expect(await cmd(TA_CMD.GET_COREDUMP)).toBe("TEE_ERROR_NOT_IMPLEMENTED");
    expect(await cmd(99)).toBe("TEE_ERROR_BAD_PARAMETERS");
  });

  it("wrong parameter types are BAD_PARAMETERS", async () => {
    expect(await cmd(TA_CMD.LOAD_FW)).toBe("TEE_ERROR_BAD_PARAMETERS");
    await load(fx.stm32mp15.good);
    expect(await cmd(TA_CMD.START_FW, [out])).toBe("TEE_ERROR_BAD_PARAMETERS");
    expect(await cmd(TA_CMD.GET_RSC_TABLE, [out])).toBe("TEE_ERROR_BAD_PARAMETERS");
  });

  it("an unaligned buffer and an empty buffer are BAD_PARAMETERS", async () => {
    const shifted = new Uint8Array(fx.stm32mp15.good.length + 2);
    shifted.set(fx.stm32mp15.good, 2);
    const shm = platform.ta.registerShm(shifted);
    expect(
      await cmd(TA_CMD.LOAD_FW, [{ type: "memref-in", shm, offset: 2, size: fx.stm32mp15.good.length }]),
    ).toBe("TEE_ERROR_BAD_PARAMETERS");
    expect(await load(new Uint8Array(0))).toBe("TEE_ERROR_BAD_PARAMETERS");
  });
});

describe("sessions, shared memory and faults", () => {
  it("TA state survives the closing of every session", async () => {
    await load(fx.stm32mp15.good);
    await cmd(TA_CMD.START_FW);
    await platform.ta.closeSession(session);
    expect(platform.ta.sessionCount).toBe(0);
    session = (await platform.ta.openSession(0)).session;
    expect(platform.ta.state(0)).toBe("STARTED");
    expect(await cmd(TA_CMD.STOP_FW)).toBe("SUCCESS");
  });

  it("the first session checks the processor id, later ones do not", async () => {
    const other = await createPlatform("stm32mp15", { keys: [fx.keys.rsaPublicPem] });
    expect(teeResultName((await other.ta.openSession(3)).result)).toBe("TEE_ERROR_NOT_SUPPORTED");
    expect((await other.ta.openSession(0)).result).toBe(TEE_RESULT.SUCCESS);
    expect((await other.ta.openSession(3)).result).toBe(TEE_RESULT.SUCCESS);
  });

  it("a memref naming a freed shm fails in transport; a closed session too", async () => {
    const shm = platform.ta.registerShm(fx.stm32mp15.good);
    platform.ta.freeShm(shm);
    const r = await platform.ta.invoke(session, TA_CMD.LOAD_FW, [id, { type: "memref-in", shm }]);
    expect(r.ret).toBeLessThan(0);
    await platform.ta.closeSession(session);
    expect((await platform.ta.invoke(session, TA_CMD.START_FW, [id])).ret).toBeLessThan(0);
  });

  it("failNext: a TA error once, a transport failure once", async () => {
    platform.ta.failNext("ta", TEE_RESULT.OUT_OF_MEMORY);
    expect(await load(fx.stm32mp15.good)).toBe("TEE_ERROR_OUT_OF_MEMORY");
    platform.ta.failNext("transport");
    const r = await platform.ta.invoke(session, TA_CMD.LOAD_FW, [
      id,
      { type: "memref-in", data: fx.stm32mp15.good },
    ]);
    expect(r.ret).toBe(-5);
    expect(await load(fx.stm32mp15.good)).toBe("SUCCESS");
  });

  it("a read past the buffer panics the TA: TARGET_DEAD, contexts and sessions lost", async () => {
    // Signed, but NUM_IMG/IMGSIZE announce a second image beyond the end of the buffer.
    const info = inspectImage(fx.stm32mp15.good);
    const tlvs = info.tlvs.map((t): [number, Uint8Array] => {
      if (t.type === TLV.NUM_IMG) return [t.type, Uint8Array.of(2)];
      if (t.type === TLV.IMGTYPE) return [t.type, Uint8Array.of(1, 1)];
      if (t.type === TLV.IMGSIZE) return [t.type, concat([t.value, t.value])];
      return [t.type, t.value];
    });
    const image = await assembleImage({ tlvs, images: [fx.elf.good], key: fx.keys.rsa });
    expect(await load(image)).toBe("TEE_ERROR_TARGET_DEAD");
    expect(platform.ta.state(0)).toBeNull();
    // The client's session survives the panic, but the instance behind it is gone.
    expect(await cmd(TA_CMD.START_FW)).toBe("TEE_ERROR_TARGET_DEAD");
    expect(platform.ta.sessionCount).toBe(0);
    session = (await platform.ta.openSession(0)).session;
    expect(await load(fx.stm32mp15.good)).toBe("SUCCESS");
  });

  it("emits TA and platform events with names and results", async () => {
    await load(fx.stm32mp15.good);
    const invoke = events.find((e) => e.layer === "ta" && e.fn === "invoke");
    expect(invoke).toMatchObject({
      layer: "ta",
      fn: "invoke",
      cmdName: "LOAD_FW",
      resultName: "SUCCESS",
      procId: 0,
    });
    const fns = new Set(events.map((e) => e.fn));
    for (const fn of ["openSession", "registerShm", "freeShm", "pta", "memWrite", "memWipe"])
      expect(fns).toContain(fn);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
  });
});
