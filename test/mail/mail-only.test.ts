import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.ts";
import { configSecrets, loadConfig } from "../../src/node/config.ts";
import { PKCS8_KEY, SECRET } from "../bot/helpers.ts";
import { MAIL_SECRET } from "./helpers.ts";

const GITHUB = { GITHUB_APP_ID: "12", GITHUB_APP_PRIVATE_KEY: PKCS8_KEY, GITHUB_WEBHOOK_SECRET: SECRET };

describe("serve configuration: GitHub, mail, or both", () => {
  it("runs the mailing-list bot alone when only RPROC_MAIL_SECRET is set", () => {
    const c = loadConfig({ RPROC_MAIL_SECRET: MAIL_SECRET, RPROC_MAIL_LIST: "list@vger.example" });
    expect(c.appId).toBeNull();
    expect(c.privateKey).toBeNull();
    expect(c.bot.webhookSecret).toBeNull();
    expect(c.mail?.mail).toMatchObject({ secret: MAIL_SECRET, listAddress: "list@vger.example" });
    expect(c).toMatchObject({ dbPath: "./data/rproc-review.sqlite", host: "127.0.0.1", port: 3000 });
    expect(configSecrets(c)).toEqual([MAIL_SECRET]);
  });

  it("runs the GitHub bot alone, and both when both are set", () => {
    const github = loadConfig(GITHUB);
    expect(github).toMatchObject({ appId: 12, privateKey: PKCS8_KEY, mail: null });
    expect(github.bot.webhookSecret).toBe(SECRET);
    const both = loadConfig({ ...GITHUB, RPROC_MAIL_SECRET: MAIL_SECRET });
    expect(both.appId).toBe(12);
    expect(both.mail?.mail.secret).toBe(MAIL_SECRET);
    expect(configSecrets(both)).toEqual(expect.arrayContaining([SECRET, PKCS8_KEY, MAIL_SECRET]));
  });

  it("says what to set when neither is configured", () => {
    for (const env of [{}, { GITHUB_API_URL: "https://ghe.example/api/v3", GITHUB_APP_ID: " " }]) {
      expect(() => loadConfig(env)).toThrow(UsageError);
      expect(() => loadConfig(env)).toThrow(
        /^invalid configuration: nothing to serve: set GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY \(or GITHUB_APP_PRIVATE_KEY_PATH\) and GITHUB_WEBHOOK_SECRET for the GitHub bot, or RPROC_MAIL_SECRET for the mailing-list bot/,
      );
    }
    expect(() => loadConfig({ PORT: "http" })).toThrow(/PORT: expected a whole number.*nothing to serve/);
  });

  it("names the missing GitHub variables of a partly set App, also beside a complete mail configuration", () => {
    const only = (names: Array<keyof typeof GITHUB>) =>
      Object.fromEntries(names.map((n) => [n, GITHUB[n]])) as Record<string, string>;
    const cases: Array<[Record<string, string>, string[]]> = [
      [only(["GITHUB_APP_ID"]), ["GITHUB_APP_PRIVATE_KEY: required", "GITHUB_WEBHOOK_SECRET: required"]],
      [only(["GITHUB_WEBHOOK_SECRET"]), ["GITHUB_APP_ID: required", "GITHUB_APP_PRIVATE_KEY: required"]],
      [only(["GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY"]), ["GITHUB_WEBHOOK_SECRET: required"]],
      [
        { GITHUB_APP_PRIVATE_KEY_PATH: "/keys/app.pem" },
        ["GITHUB_APP_ID: required", "GITHUB_WEBHOOK_SECRET"],
      ],
    ];
    for (const [github, missing] of cases) {
      for (const env of [github, { ...github, RPROC_MAIL_SECRET: MAIL_SECRET }]) {
        let message = "";
        try {
          loadConfig(env, () => PKCS8_KEY);
        } catch (e) {
          expect(e).toBeInstanceOf(UsageError);
          message = e instanceof Error ? e.message : String(e);
        }
        expect(message).toMatch(/^invalid configuration: /);
        for (const m of missing) expect(message).toContain(m);
        expect(message).not.toContain("nothing to serve");
        expect(message).not.toContain(PKCS8_KEY);
      }
    }
  });

  it("reports a bad mail variable with the other problems, in one message", () => {
    expect(() => loadConfig({ RPROC_MAIL_SECRET: "short", PORT: "http" })).toThrow(
      /^invalid configuration: .*PORT: expected a whole number.*RPROC_MAIL_SECRET: too short/,
    );
    expect(() => loadConfig({ ...GITHUB, RPROC_MAIL_SECRET: MAIL_SECRET, SMTP_URL: "http://x" })).toThrow(
      /SMTP_URL: expected smtp/,
    );
  });
});
