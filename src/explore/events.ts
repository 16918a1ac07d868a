/** The external events of an exploration, by id: a leaf module, so the CLI can list them without loading the model. */
/** External event ids (a contract: CLI, JSON output and replay commands use them). */
export const EVENT_IDS = [
  "start",
  "stop",
  "crash",
  "recovery-on",
  "recovery-off",
  "firmware-change",
  "image-tamper",
  "tee-unbind",
  "tee-bind",
  "rproc-unbind",
  "rproc-bind",
  "ta-fail-next",
  "tee-fail-next",
] as const;

export type EventId = (typeof EVENT_IDS)[number];

export function isEventId(s: string): s is EventId {
  return (EVENT_IDS as readonly string[]).includes(s);
}
