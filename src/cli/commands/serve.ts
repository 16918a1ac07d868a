import { existsSync } from "node:fs";
import type { Command } from "commander";
import { InputError } from "../../errors.ts";

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
        if (!existsSync(envFile)) throw new InputError("no such file (--env-file)", { subject: envFile });
        process.loadEnvFile(envFile);
      }
      // The service's modules (hono, better-sqlite3, octokit, nodemailer) load with this command only.
      const { loadConfig } = await import("../../node/config.ts");
      const { createReviewEngine } = await import("../../bot/review-engine.ts");
      const { cParser } = await import("../../node/c-parser.ts");
      const { createMailService } = await import("../../node/mail-service.ts");
      const { startService } = await import("../../node/server.ts");
      const { builtinManifests, builtinTeeStubs, storedMapping } = await import("../../node/versions.ts");
      const config = loadConfig(process.env);
      const engine = createReviewEngine({
        parser: await cParser(),
        builtinMapping: storedMapping,
        builtinManifests: await builtinManifests(),
        // The CONFIG_REMOTEPROC_TEE=n stubs of the built-in versions, from their mails when at hand (as the CLI).
        builtinStubs: (id) => builtinTeeStubs(id),
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
