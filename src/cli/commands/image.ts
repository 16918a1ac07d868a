import { readFile, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { hex, hex32 } from "../../emulator/bytes.ts";
import { PT_LOAD } from "../../emulator/elf.ts";
import {
  type ImageInfo,
  inspectImage,
  parsePlatTlvId,
  parsePlatTlvValue,
  signImage,
} from "../../emulator/image.ts";
import { importKey } from "../../emulator/keys.ts";
import { type LoadReport, loadOnce } from "../../emulator/load.ts";
import { isPlatformName, PLATFORM_NAMES } from "../../emulator/platform.ts";
import { InputError, UsageError } from "../../errors.ts";

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    // A fresh, 4-byte aligned copy: the TA checks the alignment of the buffer it is given.
    return new Uint8Array(await readFile(file));
  } catch (e) {
    throw new InputError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      subject: file,
    });
  }
}

async function readText(file: string): Promise<string> {
  return new TextDecoder().decode(await readBytes(file));
}

function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

function inspectJson(info: ImageInfo) {
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

function inspectText(info: ImageInfo): string {
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

function loadText(r: LoadReport): string {
  const out = [r.result];
  for (const s of r.loaded) out.push(`  loaded da ${hex32(s.da)} -> pa ${hex32(s.pa)}, ${s.size} bytes`);
  if (r.rscTable) out.push(`  resource table at pa ${hex32(r.rscTable.pa)}, ${r.rscTable.size} bytes`);
  if (r.result !== "SUCCESS" || r.reason.includes("P3")) out.push(`  ${r.reason}`);
  return out.join("\n");
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function register(program: Command): void {
  const image = program
    .command("image")
    .description("inspect, load and sign remoteproc firmware images in OP-TEE's signed format");

  image
    .command("inspect <file>")
    .description("show the header, TLVs, images with their program headers, and the hash table")
    .option("--json", "machine-readable output")
    .action(async (file: string, opts: { json?: boolean }) => {
      const info = inspectImage(await readBytes(file), file);
      print(Boolean(opts.json), inspectJson(info), () => inspectText(info));
    });

  image
    .command("load <file>")
    .description("run LOAD_FW on a fresh platform; prints SUCCESS or TEE_ERROR_… (exit 1 unless SUCCESS)")
    .requiredOption(
      "--key <pem>",
      "the platform's verification key (public, or private: its public part is used)",
    )
    .option("--key-pwd <pass>", "passphrase when --key is an encrypted private key")
    .option("--platform <name>", `platform: ${PLATFORM_NAMES.join(" | ")}`, "stm32mp15")
    .option("--json", "machine-readable output")
    .action(
      async (file: string, opts: { key: string; keyPwd?: string; platform: string; json?: boolean }) => {
        if (!isPlatformName(opts.platform)) {
          throw new UsageError(`unknown platform "${opts.platform}" (known: ${PLATFORM_NAMES.join(", ")})`, {
            subject: "--platform",
          });
        }
        const key = await importKey(await readText(opts.key), opts.keyPwd, opts.key);
        const report = await loadOnce(await readBytes(file), opts.platform, [key]);
        print(Boolean(opts.json), report, () => loadText(report));
        process.exitCode = report.result === "SUCCESS" ? 0 : 1;
      },
    );

  image
    .command("sign")
    .description("sign ELF images like OP-TEE's scripts/sign_rproc_fw.py (same bytes for RSA)")
    .requiredOption(
      "--in <elf...>",
      "input ELF (repeat for several images, in order)",
      (v: string, p: string[] = []) => [...p, v],
    )
    .requiredOption("--key <pem>", "private key (RSA or EC P-256, PEM)")
    .requiredOption("--out <file>", "output file")
    .option("--key-type <type>", "rsa | ecc (default: the key's type)")
    .option("--key-pwd <pass>", "passphrase of an encrypted private key")
    .option("--key-info <file>", "raw bytes for the PKEYINFO TLV")
    .option("--plat-tlv <id-and-value...>", "platform TLV: --plat-tlv <type> <value> (repeatable)", collect)
    .action(
      async (opts: {
        in: string[];
        key: string;
        out: string;
        keyType?: string;
        keyPwd?: string;
        keyInfo?: string;
        platTlv?: string[];
      }) => {
        const keyType = opts.keyType?.toLowerCase();
        if (keyType !== undefined && keyType !== "rsa" && keyType !== "ecc") {
          throw new UsageError(`"${opts.keyType}" is not rsa or ecc`, { subject: "--key-type" });
        }
        const plat = opts.platTlv ?? [];
        if (plat.length % 2 !== 0)
          throw new UsageError("expects pairs: --plat-tlv <type> <value>", { subject: "--plat-tlv" });
        const platTlvs: Array<[number, Uint8Array]> = [];
        for (let i = 0; i < plat.length; i += 2) {
          platTlvs.push([parsePlatTlvId(plat[i] ?? ""), parsePlatTlvValue(plat[i + 1] ?? "")]);
        }
        const key = await importKey(await readText(opts.key), opts.keyPwd, opts.key);
        const elfs = await Promise.all(opts.in.map(readBytes));
        const signed = await signImage({
          elfs,
          key,
          names: opts.in,
          ...(keyType ? { keyType } : {}),
          ...(opts.keyInfo ? { keyInfo: await readBytes(opts.keyInfo) } : {}),
          platTlvs,
        });
        await writeFile(opts.out, signed);
        process.stderr.write(`${opts.out}: ${signed.length} bytes, ${elfs.length} image(s)\n`);
      },
    );
}
