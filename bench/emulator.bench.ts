/**
 * Emulator throughput: complete LOAD_FW runs (verify header+TLVs, RSA-2048 or ECDSA P-256 signature,
 * per-segment SHA-256, copy) and signing. Returns one line per measure, e.g. "images verified: 1234 /s".
 */
import {
  createPlatform,
  inspectImage,
  loadFixtures,
  loadOn,
  type Platform,
  signImage,
  TA_CMD,
} from "../src/emulator/api.ts";
import { clearVerifyCache } from "../src/emulator/keys.ts";

async function rate(label: string, budgetMs: number, once: () => Promise<unknown>): Promise<string> {
  await once();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < budgetMs) {
    await once();
    n++;
  }
  return `${label}: ${Math.round((n * 1000) / (performance.now() - start))} /s`;
}

/** LOAD_FW then RELEASE_FW, so that the next LOAD verifies again instead of answering "already loaded". */
async function loadAndRelease(p: Platform, image: Uint8Array): Promise<void> {
  const r = await loadOn(p, image);
  if (r.result !== "SUCCESS") throw new Error(`bench image did not load: ${r.result}`);
  const { session } = await p.ta.openSession(p.procId);
  await p.ta.invoke(session, TA_CMD.RELEASE_FW, [{ type: "value-in", a: p.procId, b: 0 }]);
  await p.ta.closeSession(session);
}

export async function benchEmulator(budgetMs = 1000): Promise<string[]> {
  const fx = await loadFixtures();
  const mp15 = await createPlatform("stm32mp15", { keys: [fx.keys.rsa] });
  const m33 = await createPlatform("stm32mp2-m33", { keys: [fx.keys.ec] });
  return [
    // the platform caches signature verdicts: clear the cache so every LOAD_FW really verifies
    await rate("images verified (RSA-2048, LOAD_FW)", budgetMs, () => {
      clearVerifyCache();
      return loadAndRelease(mp15, fx.stm32mp15.good);
    }),
    await rate("images verified (ECDSA P-256, LOAD_FW)", budgetMs, () => {
      clearVerifyCache();
      return loadAndRelease(m33, fx["stm32mp2-m33"].ecdsa);
    }),
    await rate("images loaded, verdict cached (RSA-2048, LOAD_FW)", budgetMs, () =>
      loadAndRelease(mp15, fx.stm32mp15.good),
    ),
    await rate("images inspected", budgetMs, async () => inspectImage(fx.stm32mp15.good)),
    await rate("images signed (RSA-2048)", budgetMs, () =>
      signImage({ elfs: [fx.elf.good], key: fx.keys.rsa }),
    ),
  ];
}
