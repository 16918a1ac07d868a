// Preloaded (node --require) into the CLI processes bench/cli.bench.ts times: writes the process's CPU time
// (user + system, all its threads) to stderr at exit, where the bench reads it. Wall time on a shared machine
// swings with the load; the CPU a process used much less.
process.on("exit", () => {
  const u = process.cpuUsage();
  process.stderr.write(`\nrproc-bench-cpu-us ${u.user + u.system}\n`);
});
