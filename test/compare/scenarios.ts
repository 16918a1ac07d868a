/** A small hand-built matrix for v15 → v16 with mainline, used by the compare and report tests. */
import type { VersionSide } from "../../src/compare/index.ts";
import { cell, facts, note, type series, side, step } from "./fixtures.ts";

export const SCENARIOS = [
  { id: "boot", title: "normal boot" },
  { id: "boot-auth-fail", title: "boot with a firmware that fails authentication" },
  { id: "bind-unbind", title: "TEE driver unbound while the rproc is registered" },
  { id: "start-error", title: "TA start fails" },
  { id: "remove", title: "platform driver removed" },
];

const bootTrace = [
  step("core", "rproc_boot", "call"),
  step("tee", "rproc_tee_parse_fw", "call"),
  step("ta", "LOAD_FW", "invoke", "ok"),
  step("tee", "rproc_tee_parse_fw", "return", "0"),
  step("core", "rproc_start", "call"),
  step("ta", "START_FW", "invoke", "ok"),
  step("core", "rproc_start", "state", "offline -> running"),
];

/** The cells v15 and v16 share: the same boot, and the same swallowed error when the TA start fails. */
const bootCell = (v: string) =>
  cell(v, "boot", bootTrace, {
    tee: ["LOAD_FW", "START_FW"],
    factsRead: ["core.loadFwCalls", "tee.parseFwLoads"],
  });
const startErrorCell = (v: string) =>
  cell(v, "start-error", [step("tee", "rproc_tee_start", "call")], {
    findings: [{ kind: "error-swallowed", at: "rproc_tee_start", detail: "invoke error returns 0", step: 0 }],
    factsRead: ["tee.invokeErrorResult"],
  });

export function v15Side(): VersionSide {
  return side("v15", facts("v15"), [
    bootCell("v15"),
    cell(
      "v15",
      "boot-auth-fail",
      [
        step("core", "rproc_boot", "call"),
        step("core", "rproc_boot", "state", "offline"),
        step("core", "rproc_load_fw", "call"),
        step("tee", "rproc_tee_load_fw", "call"),
        step("ta", "LOAD_FW", "invoke", "authentication failed"),
        step("tee", "rproc_tee_load_fw", "return", "-EIO"),
        step("core", "rproc_boot", "return", "-EIO"),
      ],
      {
        ok: false,
        errno: -5,
        finalState: "offline",
        tee: ["LOAD_FW"],
        findings: [{ kind: "leak", at: "rproc_boot", detail: "struct firmware never released", step: 6 }],
        factsRead: ["core.loadFwCalls", "core.releaseFwCalls", "core.paToVa"],
      },
    ),
    cell(
      "v15",
      "bind-unbind",
      [step("tee", "rproc_tee_remove", "call"), step("tee", "rproc_tee_remove", "free", "entry")],
      {
        finalState: "running",
        findings: [
          { kind: "use-after-free", at: "rproc_tee_stop", detail: "entry used after remove", step: 1 },
        ],
        factsRead: ["tee.ctxLock", "tee.deviceLink", "tee.removeFreesEntries"],
      },
    ),
    startErrorCell("v15"),
    cell("v15", "remove", [step("stm32", "stm32_rproc_remove", "call")], { finalState: "deleted" }),
  ]);
}

export function v16Side(s: ReturnType<typeof series> | null = null): VersionSide {
  return side(
    "v16",
    facts("v16"),
    [
      bootCell("v16"),
      cell(
        "v16",
        "boot-auth-fail",
        [
          step("core", "rproc_boot", "call"),
          step("core", "rproc_boot", "state", "offline"),
          step("core", "rproc_fw_boot", "call"),
          step("tee", "rproc_tee_parse_fw", "call"),
          step("ta", "LOAD_FW", "invoke", "authentication failed"),
          step("tee", "rproc_tee_parse_fw", "return", "-EIO"),
          step("tee", "rproc_tee_release_fw", "call"),
          step("ta", "RELEASE_FW", "invoke", "ok"),
          step("core", "rproc_boot", "return", "-EIO"),
        ],
        {
          ok: false,
          errno: -5,
          finalState: "offline",
          tee: ["LOAD_FW", "RELEASE_FW"],
          factsRead: ["core.loadFwCalls", "core.releaseFwCalls", "tee.parseFwLoads", "core.paToVa"],
        },
      ),
      cell(
        "v16",
        "bind-unbind",
        [
          step("tee", "rproc_tee_register", "call"),
          step("tee", "rproc_tee_register", "lock", "ctx_lock"),
          step("tee", "tee_client_open_session", "call"),
        ],
        {
          findings: [
            {
              kind: "sleep-in-atomic",
              at: "rproc_tee_register",
              detail: "open session under spinlock",
              step: 2,
            },
          ],
          factsRead: ["tee.ctxLock", "tee.deviceLink", "tee.lockedCalls"],
        },
      ),
      startErrorCell("v16"),
      cell(
        "v16",
        "remove",
        [step("stm32", "stm32_rproc_remove", "call"), step("core", "rproc_tee_unregister", "warn")],
        {
          finalState: "deleted",
          findings: [{ kind: "warn", at: "rproc_tee_unregister", detail: "stub warns", step: 1 }],
          factsRead: ["stm32.teeUnregisterOnRemove"],
        },
      ),
    ],
    {
      source: "mapper",
      series: s,
      evidence: {
        "core.releaseFwCalls": [
          {
            patch: 3,
            subject: "remoteproc: core: release the firmware on errors",
            file: "drivers/remoteproc/remoteproc_core.c",
            function: "rproc_boot",
            line: 1850,
          },
        ],
        "tee.ctxLock": [
          {
            patch: 2,
            subject: "remoteproc: add the TEE driver",
            file: "drivers/remoteproc/remoteproc_tee.c",
            function: "rproc_tee_register",
            line: 120,
          },
        ],
      },
    },
  );
}

/** Mainline: the remove scenario already warns there. */
export function mainlineSide(): VersionSide {
  return side("mainline", facts("mainline"), [
    cell("mainline", "remove", [step("stm32", "stm32_rproc_remove", "call")], {
      finalState: "deleted",
      findings: [{ kind: "warn", at: "rproc_tee_unregister", detail: "stub warns", step: 0 }],
    }),
  ]);
}

export const V16_NOTES = {
  cover: [
    note("Dropped the load_fw() operation of the previous version.", { refersTo: "v15" }),
    note("Added a spinlock to protect the global context.", { refersTo: "v15" }),
    note("Reworded the Kconfig help text.", { refersTo: "v15" }),
    note("Renamed the widget ops (an old change).", { refersTo: "v12" }),
  ],
  patches: [[], [], [note("Call rproc_release_fw() from rproc_boot on error.", { refersTo: null })]],
};
