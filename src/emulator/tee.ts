/**
 * GlobalPlatform TEE constants used by the OP-TEE remoteproc trusted application and its Linux client:
 * result codes (names as in the GP TEE Internal Core API), parameter types and the TA command ids.
 */

export const TEE_RESULT = {
  SUCCESS: 0x00000000,
  CORRUPT_OBJECT: 0xf0100001,
  GENERIC: 0xffff0000,
  ACCESS_DENIED: 0xffff0001,
  BAD_FORMAT: 0xffff0005,
  BAD_PARAMETERS: 0xffff0006,
  BAD_STATE: 0xffff0007,
  NOT_IMPLEMENTED: 0xffff0009,
  NOT_SUPPORTED: 0xffff000a,
  NO_DATA: 0xffff000b,
  OUT_OF_MEMORY: 0xffff000c,
  SECURITY: 0xffff000f,
  SHORT_BUFFER: 0xffff0010,
  TARGET_DEAD: 0xffff3024,
  SIGNATURE_INVALID: 0xffff3072,
} as const;

/** A GlobalPlatform result code (u32). */
export type TeeResult = number;

const RESULT_NAMES = new Map<number, string>(
  Object.entries(TEE_RESULT).map(([name, code]) => [code, name === "SUCCESS" ? name : `TEE_ERROR_${name}`]),
);

/** "SUCCESS", "TEE_ERROR_SIGNATURE_INVALID", …; unknown codes as "TEE_ERROR_0x…". */
export function teeResultName(code: TeeResult): string {
  return RESULT_NAMES.get(code >>> 0) ?? `TEE_ERROR_0x${(code >>> 0).toString(16).padStart(8, "0")}`;
}

/** Command ids of the remoteproc TA (same numbers in every Linux version of the series). */
export const TA_CMD = {
  LOAD_FW: 1,
  START_FW: 2,
  STOP_FW: 3,
  GET_RSC_TABLE: 4,
  GET_COREDUMP: 5,
  RELEASE_FW: 6,
} as const;

const CMD_NAMES = new Map<number, string>(Object.entries(TA_CMD).map(([name, id]) => [id, name]));

export function taCommandName(cmd: number): string {
  return CMD_NAMES.get(cmd) ?? `UNKNOWN_${cmd}`;
}

/** GP parameter type codes (TEE_PARAM_TYPE_*). */
export const PARAM_TYPE = {
  none: 0,
  "value-in": 1,
  "value-out": 2,
  "value-inout": 3,
  "memref-in": 5,
} as const;

/** UUID of the remoteproc TA. */
export const REMOTEPROC_TA_UUID = "80a4c275-0a47-4905-8285-1486a9771a08";
