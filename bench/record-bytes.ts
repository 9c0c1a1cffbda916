// Bytes per listed pod that a scan keeps until its end: the live heap of N pods' records, as the
// pod list reduces them (src/kube/convert.ts), after a full GC. Run by bench/run.ts in a child
// process with --expose-gc:
//
//   node --expose-gc dist/bench/record-bytes.js N   → {"n":N,"objectMeta":bytes,"podRecord":bytes}
//
// The pages are the bench data set's metadata (bench/dataset.ts, as the fake API server serves it
// to a metadata-only list, managedFields left out), each page JSON text parsed as the client does.
import {randomUUID} from 'node:crypto'
import {KEEP_ANNOTATION, POD_TASK_LABELS} from '../src/core/labels.js'
import {podRecordReducer, toObjectMeta, type MetadataReducer} from '../src/kube/convert.js'
import {planDataset, pods} from './dataset.js'

const gc = (globalThis as {gc?: () => void}).gc
if (!gc) throw new Error('run with node --expose-gc')

function pages(n: number): string[] {
  const texts: string[] = []
  let page: unknown[] = []
  for (const pod of pods(planDataset(n, Date.UTC(2026, 11, 7)))) {
    const metadata = {
      name: pod.name,
      namespace: pod.namespace,
      uid: randomUUID(),
      resourceVersion: String(100_000 + pod.index),
      creationTimestamp: new Date(pod.creationMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      labels: pod.labels,
      annotations: pod.annotations,
    }
    page.push({metadata})
    if (page.length === 500) {
      texts.push(JSON.stringify({items: page}))
      page = []
    }
  }
  if (page.length > 0) texts.push(JSON.stringify({items: page}))
  return texts
}

function heapBytesPerPod<T>(texts: string[], n: number, reduce: MetadataReducer<T>): number {
  gc!()
  const before = process.memoryUsage().heapUsed
  const kept: T[] = []
  for (const text of texts) {
    const page = JSON.parse(text) as {items: {metadata: never}[]}
    for (const item of page.items) kept.push(reduce('Pod', item.metadata))
  }
  gc!()
  const bytes = (process.memoryUsage().heapUsed - before) / n
  if (kept.length !== n) throw new Error('lost records')
  return bytes
}

const n = Number(process.argv[2] ?? 50_000)
const texts = pages(n)
const objectMeta = heapBytesPerPod(texts, n, toObjectMeta)
const podRecord = heapBytesPerPod(texts, n, podRecordReducer({labels: POD_TASK_LABELS, annotations: [KEEP_ANNOTATION]}))
process.stdout.write(`${JSON.stringify({n, objectMeta: Math.round(objectMeta), podRecord: Math.round(podRecord)})}\n`)
