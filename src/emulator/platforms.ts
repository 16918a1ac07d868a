/** The emulated platforms, by name: a leaf module, so the CLI can list them without loading the emulator. */
export const PLATFORM_NAMES = ["stm32mp15", "stm32mp2-m33"] as const;
export type PlatformName = (typeof PLATFORM_NAMES)[number];

export function isPlatformName(name: string): name is PlatformName {
  return (PLATFORM_NAMES as readonly string[]).includes(name);
}
