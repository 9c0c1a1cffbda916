// The tests the mutation run (Stryker, `npm run test:mutation`) uses: those that exercise src in this
// process. Most integration tests run the built CLI from dist/, which Stryker's mutants never reach, so
// they could only slow the run down without killing anything.
import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: [
      'test/unit/**/*.test.ts',
      'test/integration/reap-guards.test.ts',
      'test/integration/reap-writes.test.ts',
      'test/integration/reap-unstick.test.ts',
      'test/integration/reap-scan.test.ts',
      'test/integration/kube-client.test.ts',
      // The REST API source in process, against the fake Airflow API (test/support/fake-airflow-api).
      // Not airflow-api-source.test.ts: it opens its sources in beforeAll, so every mutant of the client
      // and of personalityFor would be "static" (run against every test of this list, ~2x the run time);
      // what it checks of src/airflow-api the two files below check inside their tests.
      'test/integration/airflow-api-proof.test.ts',
      'test/integration/airflow-api-answers.test.ts',
      'test/integration/airflow-api-http.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Stryker runs one vitest per worker: keep each one to a single fork on a shared 2-core machine.
    maxWorkers: 1,
    fileParallelism: false,
  },
})
