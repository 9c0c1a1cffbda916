// The floor: the least a zombie finder must do. One paginated metadata-only list of the KPO pods
// (500 per page, keep-alive TLS, bearer token) and, after it, the one SQL query for the active task
// instances (state index), then a hash join of the two to count the pods no active task instance owns.
// Nothing else: no CLI framework, no dag-run or XCom reads, no report, no store.
//
//   BENCH_SERVER=https://127.0.0.1:PORT BENCH_TOKEN=... BENCH_CA=/path/ca.pem BENCH_DB=postgresql://... node dist/bench/floor.js
import {readFileSync} from 'node:fs'
import https from 'node:https'
import pg from 'pg'
import {labelNormaliser} from '../src/core/labels.js'

const ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json'
const ACTIVE = `state IS NULL OR state IN ('scheduled','queued','running','restarting','up_for_retry','up_for_reschedule','deferred')`

interface Page {
  metadata?: {continue?: string}
  items: {metadata: {namespace: string; name: string; creationTimestamp: string; labels?: Record<string, string>}}[]
}

const trace = (what: string) => {
  if (process.env.BENCH_TRACE) process.stderr.write(`T ${(performance.now() / 1000).toFixed(3)} ${what}\n`)
}
trace('start')

const env = (name: string): string => {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set`)
  return value
}

const server = env('BENCH_SERVER')
const token = env('BENCH_TOKEN')
const agent = new https.Agent({keepAlive: true, ca: readFileSync(env('BENCH_CA'))})

function getPage(continueToken: string | undefined): Promise<Page> {
  const url = new URL('/api/v1/pods', server)
  url.searchParams.set('labelSelector', 'kubernetes_pod_operator=True')
  url.searchParams.set('limit', '500')
  if (continueToken) url.searchParams.set('continue', continueToken)
  return new Promise((resolve, reject) => {
    const request = https.request(url, {agent, headers: {Accept: ACCEPT, Authorization: `Bearer ${token}`}}, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('error', reject)
      response.on('end', () => {
        if (response.statusCode !== 200) reject(new Error(`HTTP ${response.statusCode}`))
        else resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Page)
      })
    })
    request.on('error', reject)
    request.end()
  })
}

const pods: {labels: Record<string, string>; created: number}[] = []
let continueToken: string | undefined
do {
  const page = await getPage(continueToken)
  for (const {metadata} of page.items) pods.push({labels: metadata.labels ?? {}, created: Date.parse(metadata.creationTimestamp)})
  continueToken = page.metadata?.continue || undefined
} while (continueToken)
agent.destroy()
trace('listed')

const client = new pg.Client({connectionString: env('BENCH_DB')})
await client.connect()
const {rows} = await client.query<{dag_id: string; task_id: string; run_id: string; map_index: number; try_number: number}>(
  `SELECT dag_id, task_id, run_id, map_index, try_number FROM task_instance WHERE ${ACTIVE}`,
)
await client.end()
trace('queried')

const norm = labelNormaliser()
const active = new Map<string, number>()
for (const ti of rows) {
  const key = `${norm(ti.dag_id)}\0${norm(ti.task_id)}\0${norm(ti.run_id)}\0${ti.map_index}`
  active.set(key, Math.max(active.get(key) ?? 0, ti.try_number))
}
const cutoff = Date.now() - 5 * 60_000
let zombies = 0
for (const {labels, created} of pods) {
  if (created > cutoff) continue
  const current = active.get(`${labels.dag_id}\0${labels.task_id}\0${labels.run_id}\0${labels.map_index ?? -1}`)
  if (current === undefined || Number(labels.try_number) < current) zombies++
}
trace('joined')
process.stdout.write(`${JSON.stringify({pods: pods.length, activeTaskInstances: rows.length, zombies})}\n`)
