/**
 * Platforms by name (a contract): "stm32mp15" (Cortex-M4, upstream OP-TEE: RSA only, no memory
 * firewall) and "stm32mp2-m33" (Cortex-M33 with secure and non-secure regions, RSA and ECDSA P-256,
 * a firewall). Each owns its memory, region map, PTA, TA and coprocessor.
 */

import { InputError, UsageError } from "../errors.ts";
import { markImmutable } from "../fork.ts";
import type {
  EmulatorEvent,
  MemoryRegion,
  NsAccess,
  NsReadResult,
  Platform,
  PlatformOptions,
} from "./api.ts";
import { Core } from "./copro.ts";
import { PT_LOAD, readElf } from "./elf.ts";
import { importKey, type KeyMaterial } from "./keys.ts";
import { EventBus, Memory } from "./memory.ts";
import { isPlatformName, PLATFORM_NAMES, type PlatformName } from "./platforms.ts";
import { Pta, TEE_ALG_ECDSA_P256, TEE_ALG_RSASSA_PKCS1_V1_5_SHA256 } from "./pta.ts";
import { RemoteprocTa } from "./ta.ts";

export { isPlatformName, PLATFORM_NAMES, type PlatformName };

const region = (
  name: string,
  da: number,
  pa: number,
  size: number,
  firmware: boolean,
  secure = false,
): MemoryRegion => ({
  name,
  da,
  pa,
  size,
  firmware,
  secure,
});

/** Shared (non-firmware) regions after MCU SRAM, as in ST's board device trees. */
const VIRTIO_REGIONS = [
  region("vdev0vring0", 0x10040000, 0x10040000, 0x1000, false),
  region("vdev0vring1", 0x10041000, 0x10041000, 0x1000, false),
  region("vdev0buffer", 0x10042000, 0x10042000, 0x4000, false),
  region("ipc-shmem", 0x10048000, 0x10048000, 0x8000, false),
];

interface PlatformSpec {
  regions: MemoryRegion[];
  algorithms: number[];
  firewall: boolean;
}

const SPECS: Record<PlatformName, PlatformSpec> = {
  stm32mp15: {
    // RETRAM holds the vector table (M4 address 0); MCU SRAM1-2 (mcuram2) the code and data; mcuram is
    // the alias window on the same SRAM (same bytes). Upstream board trees declare no DDR
    // carveout for the M4; a board that adds one passes it as an extra region.
    regions: [
      region("retram", 0x00000000, 0x38000000, 0x10000, true),
      region("mcuram2", 0x10000000, 0x10000000, 0x40000, true),
      ...VIRTIO_REGIONS,
      { ...region("mcuram", 0x30000000, 0x30000000, 0x40000, true), aliasOf: "mcuram2" },
    ],
    algorithms: [TEE_ALG_RSASSA_PKCS1_V1_5_SHA256],
    firewall: false,
  },
  "stm32mp2-m33": {
    regions: [
      region("m33-secure", 0x0e000000, 0x0e000000, 0x20000, true, true),
      region("m33-nonsecure", 0x0e020000, 0x0e020000, 0x20000, true),
      region("retram", 0x00000000, 0x0a080000, 0x10000, true),
      region("sram", 0x10000000, 0x10000000, 0x40000, true),
      ...VIRTIO_REGIONS,
    ],
    algorithms: [TEE_ALG_RSASSA_PKCS1_V1_5_SHA256, TEE_ALG_ECDSA_P256],
    firewall: true,
  },
};

export async function createPlatform(name: PlatformName, options: PlatformOptions): Promise<Platform> {
  if (!isPlatformName(name)) {
    throw new UsageError(`unknown platform "${name}" (known: ${PLATFORM_NAMES.join(", ")})`, {
      subject: "platform",
    });
  }
  if (options.keys.length === 0)
    throw new UsageError("a platform needs at least one verification key", { subject: name });
  const spec = SPECS[name];
  const keys: KeyMaterial[] = await Promise.all(
    options.keys.map((k, i) =>
      typeof k === "string" ? importKey(k, undefined, `verification key ${i + 1}`) : k,
    ),
  );
  markImmutable(keys);
  const bus = new EventBus();
  if (options.onEvent) bus.on(options.onEvent);
  const memory = new Memory([...spec.regions, ...(options.extraRegions ?? [])], bus, spec.firewall);
  const core = new Core(memory, bus);
  const procId = 0;
  const pta = new Pta({ procId, keys, algorithms: spec.algorithms }, memory, core, bus);
  const ta = new RemoteprocTa(pta, memory, bus);
  return new EmulatedPlatform(name, procId, ta, core, memory, bus);
}

/** One platform's API over its memory, coprocessor and event bus (a class: its methods capture nothing). */
class EmulatedPlatform implements Platform {
  readonly regions: readonly MemoryRegion[];
  constructor(
    readonly name: PlatformName,
    readonly procId: number,
    readonly ta: RemoteprocTa,
    readonly copro: Core,
    private readonly memory: Memory,
    private readonly bus: EventBus,
  ) {
    this.regions = memory.regions;
  }
  nsRead(pa: number, length: number): NsReadResult {
    return this.memory.nsRead(pa, length);
  }
  nsWrite(pa: number, bytes: Uint8Array): NsAccess {
    return this.memory.nsWrite(pa, bytes);
  }
  daToPa(da: number, size?: number): number | null {
    return this.memory.daToPa(da, size);
  }
  paToDa(pa: number, size?: number): number | null {
    return this.memory.paToDa(pa, size);
  }
  peek(pa: number, length: number): Uint8Array {
    return this.memory.peek(pa, length);
  }
  bootStageLoad(elf: Uint8Array): { da: number; pa: number; size: number }[] {
    const memory = this.memory;
    const info = readElf(elf, "boot-stage ELF");
    const written: { da: number; pa: number; size: number }[] = [];
    for (const ph of info.phdrs) {
      if (ph.type !== PT_LOAD || ph.memsz === 0) continue;
      const pa = memory.daToPa(ph.paddr, Math.max(ph.memsz, ph.filesz));
      if (pa === null) {
        throw new InputError(`segment at da 0x${ph.paddr.toString(16)} is outside every region`, {
          subject: "boot stage",
        });
      }
      const bytes = new Uint8Array(Math.max(ph.memsz, ph.filesz));
      bytes.set(elf.subarray(ph.offset, ph.offset + ph.filesz));
      memory.secureWrite(pa, bytes, "boot");
      written.push({ da: ph.paddr, pa, size: ph.filesz });
    }
    this.copro.setHoldBoot(false);
    this.copro.setHoldBoot(true);
    return written;
  }
  onEvent(observer: (e: EmulatorEvent) => void): () => void {
    return this.bus.on(observer);
  }
}
