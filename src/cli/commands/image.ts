import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { isPlatformName, PLATFORM_NAMES } from "../../emulator/platforms.ts";
import { InputError, UsageError } from "../../errors.ts";
import { printError, printJson, printText } from "../output.ts";
import { outputDirectory, requirePaths, writeOutput } from "../paths.ts";

/** The emulator and the text of its results, loaded by the subcommand that runs. */
const emulator = () => import("../../emulator/api.ts");
const text = () => import("./image-text.ts");

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
  if (json) printJson(value);
  else printText(`${text()}\n`);
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
      await requirePaths([{ path: file, what: "the image", kind: "file" }]);
      const { inspectImage } = await emulator();
      const { inspectJson, inspectText } = await text();
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
        await requirePaths([
          { path: file, what: "the image", kind: "file" },
          { path: opts.key, what: "--key", kind: "file" },
        ]);
        const { importKey, loadOnce } = await emulator();
        const { loadText } = await text();
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
        await requirePaths([
          ...opts.in.map((path) => ({ path, what: "--in", kind: "file" as const })),
          { path: opts.key, what: "--key", kind: "file" },
          ...(opts.keyInfo === undefined
            ? []
            : [{ path: opts.keyInfo, what: "--key-info", kind: "file" as const }]),
          outputDirectory(opts.out),
        ]);
        const { importKey, parsePlatTlvId, parsePlatTlvValue, signImage } = await emulator();
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
        await writeOutput(opts.out, signed);
        printError(`${opts.out}: ${signed.length} bytes, ${elfs.length} image(s)\n`);
      },
    );
}
