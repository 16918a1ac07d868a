/**
 * The CLI process: runs the command line and exits with its status. bin/rproc-review.js loads the build of this
 * file (dist/cli/run.js); `npm run cli` runs it from the sources through tsx.
 */
import { main } from "./main.ts";

// A reader that stops early (`rproc-review matrix | head`) closes the pipe: stop quietly, as a Unix tool does.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit();
    throw e;
  });
}

process.exitCode = await main(process.argv);
