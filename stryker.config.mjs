// Mutation testing of the code that decides what is deleted or patched (issue 23): `npm run
// test:mutation`. See docs/mutation-report.md for the latest score and what each survivor means.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: {configFile: 'test/mutation/vitest.config.ts'},
  plugins: ['@stryker-mutator/vitest-runner'],
  // src/kube/objects.ts: its guarded writes (the UID-guarded DELETE, the tested finalizer patch, how
  // their answers are read, --wait's poll) and getObject, whose 404 → null the re-checks rely on; not
  // podPhase/podSummary (doctor's display). The line ranges follow the file: update them with it.
  mutate: ['src/core/**/*.ts', 'src/reap/**/*.ts', 'src/kube/objects.ts:59-78', 'src/kube/objects.ts:120-258'],
  coverageAnalysis: 'perTest',
  // A shared 2-core machine: one or two vitest workers, never more (STRYKER_CONCURRENCY=1 for less).
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 2),
  // Incremental: only mutants whose code or covering tests changed are run again. The file lives in the
  // ignored .cache/, not in git: it is regenerated output that every branch would rewrite (and conflict
  // on); docs/mutation-report.md is what is committed.
  incremental: true,
  incrementalFile: '.cache/stryker/incremental.json',
  tempDirName: '.cache/stryker/tmp',
  timeoutMS: 20_000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: {fileName: '.cache/stryker/mutation.json'},
  thresholds: {high: 90, low: 80, break: null},
  cleanTempDir: 'always',
}
