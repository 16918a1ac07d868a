/** The output of `image inspect` and `image load`: JSON and text. */
import { hex, hex32 } from "../../emulator/bytes.ts";
import { PT_LOAD } from "../../emulator/elf.ts";
import type { ImageInfo } from "../../emulator/image.ts";
import type { LoadReport } from "../../emulator/load.ts";

export function inspectJson(info: ImageInfo) {
  return {
    size: info.size,
    header: info.header,
    tlvs: info.tlvs.map((t) => ({
      offset: t.offset,
      type: t.type,
      name: t.name,
      length: t.length,
      value: hex(t.value),
    })),
    signType: info.signType,
    signature: { offset: info.signatureOffset, length: info.signature.length },
    signedDigest: info.signedDigest,
    images: info.images.map((im) => ({
      index: im.index,
      offset: im.offset,
      size: im.size,
      type: im.type,
      machine: im.elf.machine,
      entry: im.elf.entry,
      programHeaders: im.elf.phdrs,
      sections: im.elf.sections.filter((s) => s.name !== ""),
    })),
    hashTable: info.hashTable,
  };
}

export function inspectText(info: ImageInfo): string {
  const h = info.header;
  const signNames: Record<number, string> = { 1: "RSA PKCS#1 v1.5 SHA-256", 2: "ECDSA P-256 SHA-256" };
  const out = [
    `header: magic ${hex32(h.magic)} version ${h.version} tlv_len ${h.tlvLen} sign_len ${h.signLen} img_len ${h.imgLen} (file ${info.size} bytes)`,
    `signature: ${signNames[info.signType ?? 0] ?? `type ${info.signType}`}, ${info.signature.length} bytes at offset ${info.signatureOffset}`,
    `signed digest (SHA-256 of header+TLVs): ${info.signedDigest}`,
    "TLVs:",
    ...info.tlvs.map((t) => {
      const v = t.value.length <= 16 ? hex(t.value) : `${hex(t.value.subarray(0, 16))}…`;
      return `  @${t.offset} ${t.name} (${hex32(t.type)}) len ${t.length}: ${v}`;
    }),
  ];
  for (const im of info.images) {
    out.push(
      `image ${im.index + 1}: ELF at offset ${im.offset}, ${im.size} bytes, e_machine ${im.elf.machine}, entry ${hex32(im.elf.entry)}`,
    );
    for (const ph of im.elf.phdrs) {
      const kind = ph.type === PT_LOAD ? "LOAD" : hex32(ph.type);
      out.push(
        `  ${kind} offset ${hex32(ph.offset)} paddr ${hex32(ph.paddr)} vaddr ${hex32(ph.vaddr)} filesz ${hex32(ph.filesz)} memsz ${hex32(ph.memsz)} flags ${ph.flags}`,
      );
    }
    for (const s of im.elf.sections.filter((x) => x.name === ".resource_table")) {
      out.push(`  .resource_table at ${hex32(s.addr)}, ${s.size} bytes`);
    }
  }
  out.push("hash table:");
  for (const e of info.hashTable) {
    out.push(
      `  [${e.index}] type ${e.type} paddr ${hex32(e.paddr)} filesz ${hex32(e.filesz)} memsz ${hex32(e.memsz)} sha256 ${e.sha256}`,
    );
  }
  return out.join("\n");
}

export function loadText(r: LoadReport): string {
  const out = [r.result];
  for (const s of r.loaded) out.push(`  loaded da ${hex32(s.da)} -> pa ${hex32(s.pa)}, ${s.size} bytes`);
  if (r.rscTable) out.push(`  resource table at pa ${hex32(r.rscTable.pa)}, ${r.rscTable.size} bytes`);
  if (r.result !== "SUCCESS" || r.reason.includes("P3")) out.push(`  ${r.reason}`);
  return out.join("\n");
}
