/** `rproc-review image inspect|load|sign` through main(), on files written from the in-code fixtures. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadFixtures } from "../../src/emulator/api.ts";
import { runCli } from "../helpers/cli.ts";

let dir: string;

const run = (...args: string[]) => runCli(args);

const f = (name: string): string => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "rproc-image-"));
  const fx = await loadFixtures();
  writeFileSync(f("good.sig"), fx.stm32mp15.good);
  writeFileSync(f("tampered.sig"), fx.stm32mp15.tampered);
  writeFileSync(f("multi.sig"), fx["stm32mp2-m33"].multi);
  writeFileSync(f("good.elf"), fx.elf.good);
  writeFileSync(f("tfm.elf"), fx.elf.tfm);
  writeFileSync(f("zephyr.elf"), fx.elf.zephyr);
  writeFileSync(f("priv.pem"), fx.keys.rsaPrivatePem);
  writeFileSync(f("pub.pem"), fx.keys.rsaPublicPem);
  writeFileSync(f("enc.pem"), fx.keys.rsaEncryptedPem);
  writeFileSync(f("ec.pem"), fx.keys.ecPrivatePem);
  writeFileSync(f("ec_pub.pem"), fx.keys.ecPublicPem);
  writeFileSync(f("info.bin"), "board-7");
});

afterEach(() => {
  process.exitCode = undefined;
});

describe("image load", () => {
  it("prints SUCCESS and exits 0", async () => {
    const r = await run("image", "load", f("good.sig"), "--key", f("pub.pem"));
    expect(r.code).toBe(0);
    expect(r.out.split("\n")[0]).toBe("SUCCESS");
  });

  it("--json gives result, code, loaded segments, table and reason; exit 1 on failure", async () => {
    const r = await run("image", "load", f("tampered.sig"), "--key", f("priv.pem"), "--json");
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ result: "TEE_ERROR_SECURITY", code: 0xffff000f, rscTable: null });
    expect(j.loaded).toEqual([{ da: 0, pa: 0x38000000, size: 8 }]);
    expect(j.reason).toMatch(/L5/);
  });

  it("--platform stm32mp2-m33 loads the multi image; stm32mp15 denies it", async () => {
    expect(
      (await run("image", "load", f("multi.sig"), "--key", f("pub.pem"), "--platform", "stm32mp2-m33")).code,
    ).toBe(0);
    const r = await run("image", "load", f("multi.sig"), "--key", f("pub.pem"));
    expect(r.out.split("\n")[0]).toBe("TEE_ERROR_ACCESS_DENIED");
  });

  it("usage and input errors: missing --key, unknown platform, missing file, wrong passphrase", async () => {
    expect((await run("image", "load", f("good.sig"))).code).toBe(2);
    expect((await run("image", "load", f("good.sig"), "--key", f("pub.pem"), "--platform", "x")).code).toBe(
      2,
    );
    const missing = await run("image", "load", f("nope.sig"), "--key", f("pub.pem"));
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/nope\.sig: no such file or directory \(the image\)/);
    const pwd = await run("image", "load", f("good.sig"), "--key", f("enc.pem"), "--key-pwd", "bad");
    expect(pwd.err).toMatch(/wrong passphrase/);
  });
});

describe("image sign and inspect", () => {
  it("signs like the fixtures (RSA is deterministic) and inspects the result", async () => {
    const fx = await loadFixtures();
    const s = await run(
      "image",
      "sign",
      "--in",
      f("good.elf"),
      "--key",
      f("enc.pem"),
      "--key-pwd",
      fx.keys.rsaPassphrase,
      "--out",
      f("out.sig"),
    );
    expect(s.code).toBe(0);
    expect(new Uint8Array(readFileSync(f("out.sig")))).toEqual(fx.stm32mp15.good);
    const i = await run("image", "inspect", f("out.sig"), "--json");
    const j = JSON.parse(i.out);
    expect(j.header).toMatchObject({ magic: 0x3543a468, version: 1, signLen: 256 });
    expect(j.images[0].programHeaders).toHaveLength(2);
    expect(j.hashTable).toHaveLength(2);
    expect((await run("image", "inspect", f("out.sig"))).out).toMatch(/\.resource_table at 0x10000100/);
  });

  it("several --in, --key-info and --plat-tlv pairs, ECDSA", async () => {
    const s = await run(
      "image",
      "sign",
      "--in",
      f("tfm.elf"),
      "--in",
      f("zephyr.elf"),
      "--key",
      f("ec.pem"),
      "--key-type",
      "ecc",
      "--key-info",
      f("info.bin"),
      "--plat-tlv",
      "0x10001",
      "0x80100000",
      "--plat-tlv",
      "0x10002",
      "hello",
      "--out",
      f("m.sig"),
    );
    expect(s.code).toBe(0);
    const j = JSON.parse((await run("image", "inspect", f("m.sig"), "--json")).out);
    expect(j.tlvs.map((t: { name: string }) => t.name)).toEqual([
      "SIGNTYPE",
      "NUM_IMG",
      "IMGTYPE",
      "IMGSIZE",
      "HASHTYPE",
      "HASHTABLE",
      "PKEYINFO",
      "PLATFORM_0x00010001",
      "PLATFORM_0x00010002",
    ]);
    expect(
      (await run("image", "load", f("m.sig"), "--key", f("ec_pub.pem"), "--platform", "stm32mp2-m33")).code,
    ).toBe(0);
  });

  it("refuses an odd --plat-tlv, an out-of-range id, a public key and a non-image", async () => {
    const base = ["image", "sign", "--in", f("good.elf"), "--key", f("priv.pem"), "--out", f("x.sig")];
    expect((await run(...base, "--plat-tlv", "0x10001")).code).toBe(2);
    expect((await run(...base, "--plat-tlv", "0x20000", "1")).err).toMatch(/not in range/);
    expect(
      (await run("image", "sign", "--in", f("good.elf"), "--key", f("pub.pem"), "--out", f("x.sig"))).code,
    ).toBe(3);
    const bad = await run("image", "inspect", f("good.elf"));
    expect(bad.code).toBe(3);
    expect(bad.err).toMatch(/bad magic/);
  });
});
