import { describe, expect, it } from "vitest";
import { describeRan, type RanFile } from "../../src/scenarios/result.ts";

// What every `ran:` line (text, markdown, mail, PR comment) says of the files a design ran.
describe("describeRan", () => {
  const failed = 'on the tree: 2/3 "remoteproc: core: add a hook" did not apply';
  const header =
    "on the tree: it includes include/linux/remoteproc.h, which patch 2 changes and did not apply";
  const ran: RanFile[] = [
    { file: "drivers/remoteproc/remoteproc_tee.c", from: "C", why: "created by patch 1" },
    {
      file: "drivers/remoteproc/remoteproc_core.c",
      from: "model",
      why: "fallback (patch-failed)",
      fallback: failed,
    },
    {
      file: "drivers/remoteproc/stm32_rproc.c",
      from: "model",
      why: "fallback (header-failed)",
      fallback: header,
    },
    {
      file: "drivers/remoteproc/remoteproc_virtio.c",
      from: "model",
      why: "fallback (header-failed)",
      fallback: header,
    },
    {
      file: "drivers/remoteproc/remoteproc_elf_loader.c",
      from: "model",
      why: "base; the hand model runs it",
    },
  ];

  it("names the patch that did not apply and the files that fell back because of it, in both forms", () => {
    expect(describeRan(ran)).toBe(
      `remoteproc_tee.c from C; core from the model (${failed}); stm32, virtio from the model (${header}); elf loader from the model`,
    );
    expect(describeRan(ran, true)).toBe(
      `remoteproc_tee.c from C; core from the model (${failed}); stm32, virtio from the model (${header}); the rest from the model`,
    );
  });

  it("says nothing more of files meant to run from the model", () => {
    const plain = ran.map(({ fallback: _, ...r }) => r);
    expect(describeRan(plain)).toBe(
      "remoteproc_tee.c from C; core, stm32, virtio, elf loader from the model",
    );
    expect(describeRan(plain, true)).toBe("remoteproc_tee.c from C; the rest from the model");
  });
});
