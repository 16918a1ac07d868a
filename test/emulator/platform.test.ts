/** Platforms: the coprocessor as the STM32 driver drives it, memory access rules, and the fixtures. */
import { describe, expect, it } from "vitest";
import {
  createPlatform,
  type EmulatorEvent,
  LAYOUT,
  loadFixtures,
  loadOn,
  M4_STATE,
  type Platform,
  parseResourceTable,
  readElf,
  TA_CMD,
  type TeeParam,
} from "../../src/emulator/api.ts";

const id: TeeParam = { type: "value-in", a: 0, b: 0 };

async function mp15(events?: EmulatorEvent[]): Promise<Platform> {
  const fx = await loadFixtures();
  return createPlatform("stm32mp15", {
    keys: [fx.keys.rsaPublicPem],
    ...(events ? { onEvent: (e) => events.push(e) } : {}),
  });
}

async function m33(): Promise<Platform> {
  const fx = await loadFixtures();
  return createPlatform("stm32mp2-m33", { keys: [fx.keys.rsaPublicPem, fx.keys.ecPublicPem] });
}

/** Linux's mainline path: copy PT_LOAD segments through ioremap, zero the rest. */
function linuxLoad(p: Platform, elf: Uint8Array): boolean {
  return readElf(elf, "elf").phdrs.every((ph) => {
    const pa = p.daToPa(ph.paddr, ph.memsz);
    if (pa === null) return false;
    const bytes = new Uint8Array(ph.memsz);
    bytes.set(elf.subarray(ph.offset, ph.offset + ph.filesz));
    return p.nsWrite(pa, bytes).ok;
  });
}

async function teeStart(p: Platform, image: Uint8Array): Promise<number> {
  const { session } = await p.ta.openSession(0);
  expect((await loadOn(p, image)).result).toBe("SUCCESS");
  expect((await p.ta.invoke(session, TA_CMD.START_FW, [id])).result).toBe(0);
  return session;
}

describe("fixtures", () => {
  it("good, alternate, noResourceTable load; tampered and badSignature are rejected", async () => {
    const fx = await loadFixtures();
    const results = await Promise.all(
      Object.values(fx.stm32mp15).map(async (img) => (await loadOn(await mp15(), img)).result),
    );
    expect(results).toEqual([
      "SUCCESS",
      "SUCCESS",
      "SUCCESS",
      "TEE_ERROR_SECURITY",
      "TEE_ERROR_SIGNATURE_INVALID",
    ]);
  });

  it("the good table holds a trace and a vdev with vrings at vdev0vring0/1", async () => {
    const fx = await loadFixtures();
    const p = await mp15();
    const r = await loadOn(p, fx.stm32mp15.good);
    expect(r.rscTable?.pa).toBe(LAYOUT.m4.rscTableDa);
    const table = parseResourceTable(p.peek(r.rscTable?.pa ?? 0, r.rscTable?.size ?? 0));
    expect(table?.entries.map((e) => e.type)).toEqual(["trace", "vdev"]);
    const vdev = table?.entries[1];
    expect(vdev?.type === "vdev" && vdev.vrings.map((v) => v.da)).toEqual([0x10040000, 0x10041000]);
    expect((await loadOn(await mp15(), fx.stm32mp15.noResourceTable)).rscTable).toEqual({ pa: 0, size: 0 });
  });

  it("multi loads TF-M into the secure region and Zephyr (with the table) into the non-secure one", async () => {
    const fx = await loadFixtures();
    const r = await loadOn(await m33(), fx["stm32mp2-m33"].multi);
    expect(r.result).toBe("SUCCESS");
    expect(r.loaded.map((s) => s.da)).toEqual([LAYOUT.m33.tfmDa, LAYOUT.m33.zephyrDa]);
    expect(r.rscTable?.pa).toBe(LAYOUT.m33.rscTableDa);
    expect((await loadOn(await m33(), fx["stm32mp2-m33"].ecdsa)).result).toBe("SUCCESS");
    expect((await loadOn(await mp15(), fx["stm32mp2-m33"].multi)).result).toBe("TEE_ERROR_ACCESS_DENIED");
    expect((await loadOn(await mp15(), fx["stm32mp2-m33"].ecdsa)).result).toBe("TEE_ERROR_NOT_SUPPORTED");
  });
});

describe("coprocessor", () => {
  it("is held in reset at creation, boots on START, writes CRUN and its table address", async () => {
    const fx = await loadFixtures();
    const p = await mp15();
    expect(p.copro.status()).toMatchObject({ run: "halted", holdBoot: true, m4State: M4_STATE.OFF });
    await teeStart(p, fx.stm32mp15.good);
    expect(p.copro.status()).toMatchObject({
      run: "running",
      firmware: "good",
      loadedBy: "tee",
      holdBoot: true,
    });
    expect(p.copro.readM4State()).toBe(M4_STATE.CRUN);
    expect(p.copro.readRscTableReg()).toBe(LAYOUT.m4.rscTableDa);
  });

  it("STOP holds and resets the core; the firmware answers shutdown while running only", async () => {
    const fx = await loadFixtures();
    const p = await mp15();
    const session = await teeStart(p, fx.stm32mp15.alternate);
    expect(p.copro.mailboxSend("shutdown", "detach").outcome).toBe("ack");
    await p.ta.invoke(session, TA_CMD.STOP_FW, [id]);
    expect(p.copro.status()).toMatchObject({ run: "halted", firmware: null });
    expect(p.copro.mailboxSend("shutdown", "detach").outcome).toBe("timeout");
  });

  it("a firmware that ignores a channel makes the sender time out", async () => {
    const fx = await loadFixtures();
    const p = await mp15();
    await teeStart(p, fx.stm32mp15.good);
    p.copro.setFirmwareAnswers("detach", false);
    expect(p.copro.mailboxSend("detach", "stop").outcome).toBe("timeout");
    expect(p.copro.mailboxSend("vq0", "kick").outcome).toBe("sent");
  });

  it("crash marks the core crashed, writes CRASH and fires the watchdog handlers", async () => {
    const fx = await loadFixtures();
    const p = await mp15();
    await teeStart(p, fx.stm32mp15.good);
    let fired = 0;
    p.copro.onWatchdog(() => fired++);
    p.copro.crash("hard fault");
    expect(fired).toBe(1);
    expect(p.copro.status()).toMatchObject({ run: "crashed", crashReason: "hard fault" });
    expect(p.copro.readM4State()).toBe(M4_STATE.CRASH);
    // Recovery: stop (hold + reset) then start again reboots the same memory.
    p.copro.setHoldBoot(true);
    p.copro.assertReset();
    p.copro.setHoldBoot(false);
    expect(p.copro.status()).toMatchObject({ run: "running", firmware: "good", boots: 2 });
  });

  it("releasing hold boot on empty memory faults at once", async () => {
    const p = await mp15();
    p.copro.setHoldBoot(false);
    expect(p.copro.status().run).toBe("crashed");
  });

  it("a boot stage can start a firmware before Linux (attach case)", async () => {
    const fx = await loadFixtures();
    const p = await mp15();
    p.bootStageLoad(fx.elf.good);
    expect(p.copro.readM4State()).toBe(M4_STATE.CRUN);
    expect(p.copro.status()).toMatchObject({ run: "running", loadedBy: "boot" });
  });

  it("the firmware's kicks reach Linux handlers while it runs", async () => {
    const fx = await loadFixtures();
    const p = await mp15();
    const got: string[] = [];
    p.copro.onMailbox((ch) => got.push(ch));
    expect(p.copro.firmwareKick("vq1")).toBe(false);
    p.bootStageLoad(fx.elf.good);
    expect(p.copro.firmwareKick("vq1")).toBe(true);
    expect(got).toEqual(["vq1"]);
  });
});

describe("non-secure memory access", () => {
  it("mainline path: Linux loads the ELF itself and releases hold boot", async () => {
    const fx = await loadFixtures();
    const p = await mp15();
    expect(linuxLoad(p, fx.elf.alternate)).toBe(true);
    p.copro.setHoldBoot(false);
    p.copro.setHoldBoot(true);
    expect(p.copro.status()).toMatchObject({ run: "running", firmware: "alternate", loadedBy: "nonsecure" });
  });

  it("stm32mp15 has no firewall: a write into TEE-loaded firmware succeeds and is recorded", async () => {
    const fx = await loadFixtures();
    const events: EmulatorEvent[] = [];
    const p = await mp15(events);
    await loadOn(p, fx.stm32mp15.good);
    const w = p.nsWrite(0x10000040, Uint8Array.of(1, 2, 3, 4));
    expect(w).toMatchObject({ ok: true, protectedHit: true, refused: false, region: "mcuram2" });
    expect(p.peek(0x10000040, 4)).toEqual(Uint8Array.of(1, 2, 3, 4));
    expect(events.some((e) => e.layer === "platform" && e.fn === "nsWrite" && e.protectedHit)).toBe(true);
    // The resource table is Linux's to update; vrings are shared.
    expect(p.nsWrite(LAYOUT.m4.rscTableDa + 16, Uint8Array.of(9)).protectedHit).toBe(false);
    expect(p.nsWrite(0x10040000, Uint8Array.of(9)).protectedHit).toBe(false);
  });

  it("stm32mp15's mcuram window at 0x30000000 is the same SRAM as mcuram2", async () => {
    const fx = await loadFixtures();
    const p = await mp15();
    await loadOn(p, fx.stm32mp15.good);
    const w = p.nsWrite(0x30000040, Uint8Array.of(7));
    expect(w).toMatchObject({ ok: true, region: "mcuram", protectedHit: true });
    expect(p.peek(0x10000040, 1)).toEqual(Uint8Array.of(7));
    expect(
      p.nsWrite(0x30000000 + (LAYOUT.m4.rscTableDa - 0x10000000) + 16, Uint8Array.of(1)).protectedHit,
    ).toBe(false);
  });

  it("stm32mp2-m33 refuses writes into protected regions except the resource table", async () => {
    const fx = await loadFixtures();
    const p = await m33();
    await loadOn(p, fx["stm32mp2-m33"].multi);
    expect(p.nsWrite(LAYOUT.m33.zephyrDa + 0x40, Uint8Array.of(1))).toMatchObject({
      ok: false,
      refused: true,
    });
    expect(p.nsWrite(LAYOUT.m33.rscTableDa + 16, Uint8Array.of(1)).ok).toBe(true);
    expect(p.nsRead(LAYOUT.m33.tfmDa, 4)).toMatchObject({ ok: false, data: null });
    expect(p.nsRead(LAYOUT.m33.rscTableDa, 4).data).toEqual(Uint8Array.of(1, 0, 0, 0));
    expect(p.nsWrite(0x20000000, Uint8Array.of(1))).toMatchObject({ ok: false, region: null });
  });

  it("after RELEASE the regions are no longer protected", async () => {
    const fx = await loadFixtures();
    const p = await m33();
    const { session } = await p.ta.openSession(0);
    await loadOn(p, fx["stm32mp2-m33"].multi);
    await p.ta.invoke(session, TA_CMD.RELEASE_FW, [id]);
    expect(p.nsWrite(LAYOUT.m33.zephyrDa + 0x40, Uint8Array.of(1)).ok).toBe(true);
  });
});
