/**
 * The CLI process: runs the command line and exits with its status. bin/rproc-review.js loads the build of this
 * file (dist/cli/run.js); `npm run cli` runs it from the sources through tsx.
 */
import { main } from "./main.ts";

process.exitCode = await main(process.argv);
