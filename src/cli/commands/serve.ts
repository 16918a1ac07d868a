import { existsSync } from "node:fs";
import type { Command } from "commander";
import { createReviewEngine } from "../../bot/review-engine.ts";
import { UsageError } from "../../errors.ts";
import { cParser } from "../../node/c-parser.ts";
import { loadConfig } from "../../node/config.ts";
import { createMailService } from "../../node/mail-service.ts";
import { startService } from "../../node/server.ts";
import { builtinManifests, storedMapping } from "../../node/versions.ts";

export function register(program: Command): void {
  program
    .command("serve")
    .description(
      "run the bots: GET /healthz, the review queue and its SQLite store; with the GitHub App variables the GitHub bot (POST /webhooks/github), with RPROC_MAIL_SECRET the mailing-list bot (POST /mail and the list poller), at least one of them (configuration from the environment and .env; see README, GitHub bot and Mailing-list bot)",
    )
    .option(
      "--env-file <path>",
      "read variables from this file (default: ./.env when it exists); variables already set win",
    )
    .action(async (opts: { envFile?: string }) => {
      const envFile = opts.envFile ?? (existsSync(".env") ? ".env" : undefined);
      if (envFile !== undefined) {
        if (!existsSync(envFile)) throw new UsageError("no such file", { subject: envFile });
        process.loadEnvFile(envFile);
      }
      const config = loadConfig(process.env);
      const engine = createReviewEngine({
        parser: await cParser(),
        builtinMapping: storedMapping,
        builtinManifests: await builtinManifests(),
      });
      const mail = config.mail
        ? createMailService({ config: config.mail, dbPath: config.dbPath, engine })
        : null;
      const service = await startService({ config, engine, ...(mail ? { extend: mail.extend } : {}) });
      mail?.start();
      await new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
      });
      await service.close();
      await mail?.close();
    });
}
