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
  // The REST API source (docs/mutation-report.md says why each part): proof.ts, the point reads that
  // convict a candidate pod; source.ts, whose lists clear pods and whose checks refuse an answer of the
  // wrong shape (whole: its list reads change often, and every line of it feeds a verdict);
  // personality.ts, how a task instance, its try, its timeout and its pod_name XCom are read; and in
  // http.ts the request budget and how an answer is judged not to be one (a redirect, a 5xx, a login
  // page, malformed JSON), not retries' timing nor the connection pool.
  mutate: [
    'src/core/**/*.ts',
    'src/reap/**/*.ts',
    'src/kube/objects.ts:59-78',
    'src/kube/objects.ts:120-258',
    'src/airflow-api/proof.ts',
    'src/airflow-api/source.ts',
    'src/airflow-api/personality.ts',
    'src/airflow-api/http.ts:165-222',
  ],
  coverageAnalysis: 'perTest',
  // A static mutant (a module-level constant, or code a test file runs while it is collected) runs the
  // whole list of tests: ~250 of them take about 70 % of a run. STRYKER_IGNORE_STATIC=1 leaves them
  // out (the report says how many) when a full run does not fit the time at hand.
  ignoreStatic: process.env.STRYKER_IGNORE_STATIC === '1',
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
