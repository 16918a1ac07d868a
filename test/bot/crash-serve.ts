/**
 * A `serve` process for tests and the soak bench: the Node service configured from the environment, with
 * the test engine of ./helpers.ts, except that a series with a patch titled "crash me" kills this process
 * (SIGKILL, as an out-of-memory kill or a fatal error in a native module would) when it is reviewed.
 * Run with `node --import tsx test/bot/crash-serve.ts`.
 */
import { loadConfig } from "../../src/node/config.ts";
import { startService } from "../../src/node/server.ts";
import { testEngine } from "./helpers.ts";

const engine = testEngine();
const review = engine.reviewPullRequest.bind(engine);
engine.reviewPullRequest = (series, against, options) => {
  if (series.patches.some((p) => p.title.includes("crash me"))) process.kill(process.pid, "SIGKILL");
  return review(series, against, options);
};
const service = await startService({ config: loadConfig(process.env), engine });
const stop = () => {
  service.close().then(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
