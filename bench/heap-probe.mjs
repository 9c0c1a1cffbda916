// The live heap (after a full GC) and RSS at each call a `zombies` run makes to the Airflow DB, and the
// largest live heap, on stderr: where the judging's memory goes, without changing the program. Loaded
// before the CLI, on a built checkout, with the data set of `node dist/bench/run.js --serve N`:
//
//   node --expose-gc --import ./bench/heap-probe.mjs bin/run.js zombies -A -o json --kubeconfig … --db … --no-cache
//
// It patches SqlAirflowDb's methods in the same module instance the CLI loads (dist/src/...). The
// forced GCs make the run much slower: read its heap figures, not its time.
import {writeSync} from 'node:fs'

const gc = globalThis.gc
if (!gc) throw new Error('run with node --expose-gc')
const {SqlAirflowDb} = await import(new URL('../dist/src/airflow/sql-airflow-db.js', import.meta.url).href)

const mb = (bytes) => (bytes / 1048576).toFixed(1)
const started = performance.now()
const calls = {}
let largest = {heap: 0, where: ''}

function sample(where) {
  gc()
  const {heapUsed, rss} = process.memoryUsage()
  if (heapUsed > largest.heap) largest = {heap: heapUsed, where}
  return `live heap ${mb(heapUsed)} MB, rss ${mb(rss)} MB`
}

const size = (value) => (Array.isArray(value) ? value.length : value instanceof Map ? value.size : '')

for (const name of ['dagRunsSince', 'taskInstancesOfTasks', 'taskInstancesOfRuns', 'podNameXComs', 'proveCandidates']) {
  const original = SqlAirflowDb.prototype[name]
  SqlAirflowDb.prototype[name] = async function (...args) {
    const n = (calls[name] = (calls[name] ?? 0) + 1)
    const shown = n <= 2 || name === 'dagRunsSince' || name === 'proveCandidates' // the first calls of each kind
    const at = ((performance.now() - started) / 1000).toFixed(2)
    const before = sample(`${name}#${n} called`)
    if (shown) writeSync(2, `[heap-probe ${at} s] ${name}#${n} called with ${size(args[0])}: ${before}\n`)
    const result = await original.apply(this, args)
    const after = sample(`${name}#${n} answered`)
    if (shown) writeSync(2, `[heap-probe] ${name}#${n} answered ${size(result)}: ${after}\n`)
    return result
  }
}

process.on('exit', () => {
  writeSync(2, `[heap-probe] exit: ${sample('exit')}; calls ${JSON.stringify(calls)}; largest live heap ${mb(largest.heap)} MB at ${largest.where}\n`)
})
