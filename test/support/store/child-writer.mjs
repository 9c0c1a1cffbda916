// A second process writing through the real store code: `node --import register-ts.mjs child-writer.mjs
// STORE_PATH LABEL RUNS GO_FILE`. Prints "ready" once loaded, then waits for GO_FILE to appear, so that
// sibling processes open the (fresh) store and write at the same moment; prints {"runIds": [...]}.
import {existsSync} from 'node:fs'
import {openRunStore} from '../../../src/store/run-store.js'

const [storePath, label, runs, goFile] = process.argv.slice(2)
process.stdout.write('ready\n')
const sleeper = new Int32Array(new SharedArrayBuffer(4))
while (!existsSync(goFile)) Atomics.wait(sleeper, 0, 0, 1)

try {
  const store = openRunStore(storePath)
  const runIds = []
  for (let i = 0; i < Number(runs); i++) {
    const runId = store.startRun({
      command: 'zombies',
      argv: ['zombies', '--delete', '--yes', `--context=${label}`],
      context: label,
      server: 'https://kube.example:6443',
      namespace: 'airflow',
      dryRun: false,
    })
    const items = [0, 1, 2].map((n) => ({
      kind: 'Pod',
      namespace: 'airflow',
      name: `${label}-pod-${i}-${n}`,
      uid: `${label}-uid-${i}-${n}`,
      phase: 'Running',
      ageSeconds: 600,
      reason: 'no-active-task-instance',
      detail: `written by ${label}`,
      taskInstance: null,
      action: 'deleted',
    }))
    store.recordItems(runId, items)
    store.finishRun(runId, {outcome: 'ok', summary: {scanned: 10, found: 3, acted: 3, failed: 0, skipped: 0, unknown: 0}})
    runIds.push(runId)
  }
  store.close()
  process.stdout.write(`${JSON.stringify({runIds})}\n`)
} catch (err) {
  process.stderr.write(`${err.name}: ${err.message}\n`)
  process.exit(1)
}
