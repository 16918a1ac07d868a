/**
 * The Worker's tests, inside workerd (@cloudflare/vitest-plugin) with the D1 database and the queue of
 * wrangler.toml. What the Worker cannot do itself is prepared here, on Node: the D1 migrations read from
 * migrations/, and the facts of the fixture series derived by the mapper, alone and with the series' lowered
 * C (as a Node process would post them).
 */
import { generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { cParser } from "./src/node/c-parser.ts";
import { jobFacts } from "./src/node/job-c.ts";
import { mapSeries } from "./src/semantics/map/index.ts";
import { parseMbox } from "./src/series/ingest.ts";

export default defineConfig(async () => {
  const mbox = readFileSync("test/fixtures/map/tee-series.mbox");
  const [series] = await parseMbox(mbox, "tee-series.mbox");
  if (!series) throw new Error("the fixture series did not parse");
  const facts = mapSeries(series, await cParser());
  const base64 = (path: string) => readFileSync(path).toString("base64");
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            MAIL_SECRET: "worker-mail-secret-0123456789",
            MAIL_LIST: "linux-remoteproc@vger.example",
            TEST_MIGRATIONS: await readD1Migrations("migrations"),
            TEST_MBOX: mbox.toString("utf8"),
            TEST_FACTS: JSON.stringify(facts),
            // What `rproc-review mail-post` sends: the facts with the series' C lowered on Node (`c`).
            TEST_JOB_FACTS: JSON.stringify(await jobFacts(series)),
            TEST_TS_CORE_WASM: base64("node_modules/web-tree-sitter/web-tree-sitter.wasm"),
            TEST_TS_C_WASM: base64("node_modules/tree-sitter-c/tree-sitter-c.wasm"),
            TEST_PKCS8_KEY: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
          },
        },
      }),
    ],
    test: {
      include: ["test/workers/**/*.test.ts"],
      testTimeout: 120_000,
    },
  };
});
