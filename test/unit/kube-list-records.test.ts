// The pod list keeps compact records and drops each page as it is reduced (issue 22): at 150,000 pods
// the pages (managedFields, every label and annotation) must not stay alive behind the records.
import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'
import {describe, expect, it} from 'vitest'
import {KEEP_ANNOTATION, POD_TASK_LABELS} from '../../src/core/labels.js'
import type {KubeClient} from '../../src/kube/client.js'
import {podRecordReducer, type RawObjectMeta} from '../../src/kube/convert.js'
import {MAX_PAGE_ITEMS, MIN_PAGE_ITEMS, PAGE_TARGET_CHARS, listRecords, nextPageLimit} from '../../src/kube/list.js'
import {resolveResource} from '../../src/kube/resources.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const reducer = () => podRecordReducer({labels: POD_TASK_LABELS, annotations: [KEEP_ANNOTATION]})

function rawPod(i: number, extra: Partial<RawObjectMeta> = {}): RawObjectMeta & {managedFields: unknown[]} {
  return {
    name: `pod-${i}`,
    namespace: `team-${i % 3}`,
    uid: `uid-${i}`,
    resourceVersion: String(1000 + i),
    creationTimestamp: '2026-12-07T10:00:00Z',
    labels: {
      dag_id: `dag-${i % 7}`,
      task_id: 'extract',
      run_id: `scheduled__2026-12-07T0${i % 5}0000-abcdef123`,
      try_number: '1',
      kubernetes_pod_operator: 'True',
      airflow_version: '2.10.5',
      team: 'data',
    },
    annotations: {'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(200)},
    managedFields: [{manager: 'kubectl', fieldsV1: {'f:metadata': {}}}],
    ...extra,
  }
}

/** A client answering GETs with these pages in turn (continue tokens between them). */
function pagedClient(pages: RawObjectMeta[][]): {client: KubeClient; served: WeakRef<object>[]} {
  const served: WeakRef<object>[] = []
  let next = 0
  const client = {
    async request() {
      const index = next++
      const body = {
        metadata: {continue: index + 1 < pages.length ? `page-${index + 1}` : undefined},
        items: pages[index].map((metadata) => ({metadata: structuredClone(metadata)})),
      }
      for (const item of body.items) served.push(new WeakRef(item), new WeakRef(item.metadata), new WeakRef(item.metadata.labels!))
      return {status: 200, headers: {}, body}
    },
  } as unknown as KubeClient
  return {client, served}
}

describe('podRecordReducer', () => {
  it('keeps identity, creation time and only the labels and annotations the verdicts read', () => {
    const record = reducer()('Pod', rawPod(1, {labels: {...rawPod(1).labels, map_index: '2'}, annotations: {[KEEP_ANNOTATION]: 'true', other: 'x'}}))
    expect(record).toEqual({
      kind: 'Pod',
      namespace: 'team-1',
      name: 'pod-1',
      uid: 'uid-1',
      creationTimestamp: new Date('2026-12-07T10:00:00Z'),
      labels: {dag_id: 'dag-1', task_id: 'extract', run_id: 'scheduled__2026-12-07T010000-abcdef123', try_number: '1', map_index: '2'},
      annotations: {[KEEP_ANNOTATION]: 'true'},
      ownerReferences: [],
    })
  })

  it('keeps what the guards read: a deletion under way and the owners', () => {
    const owner = {apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: 'u', controller: true}
    const record = reducer()('Pod', rawPod(1, {deletionTimestamp: '2026-12-07T11:00:00Z', ownerReferences: [owner]}))
    expect(record.deletionTimestamp).toEqual(new Date('2026-12-07T11:00:00Z'))
    expect(record.ownerReferences).toEqual([owner])
  })

  it('refuses a pod without the UID the delete is conditioned on', () => {
    expect(() => reducer()('Pod', rawPod(1, {uid: undefined}))).toThrow(/no metadata.uid/)
  })

  it('shares one frozen empty map or list among the pods that have none', () => {
    const reduce = reducer()
    const a = reduce('Pod', rawPod(0))
    const b = reduce('Pod', rawPod(1))
    expect(b.annotations).toBe(a.annotations)
    expect(b.ownerReferences).toBe(a.ownerReferences)
    expect(Object.isFrozen(a.annotations)).toBe(true)
  })
})

describe('listRecords', () => {
  it('reduces every page to records and keeps none of the pages alive', async () => {
    const pages = [0, 1, 2].map((p) => Array.from({length: 50}, (_, i) => rawPod(p * 50 + i)))
    const {client, served} = pagedClient(pages)
    const records = await listRecords(client, {resource: resolveResource('pods')}, reducer())
    expect(records.map((r) => r.name)).toEqual(pages.flat().map((p) => p.name))
    expect(served).toHaveLength(3 * 50 * 3)
    // WeakRefs are cleared only after the job that created them: let it end before collecting.
    await new Promise((resolve) => setImmediate(resolve))
    gc()
    expect(served.filter((ref) => ref.deref() !== undefined)).toHaveLength(0)
    expect(records).toHaveLength(150) // the records themselves are still here
  })
})

describe('nextPageLimit: pages near PAGE_TARGET_CHARS of JSON', () => {
  it.each([
    // [limit asked, items received, characters received, max items, next limit]
    {limit: 500, items: 500, chars: 500 * 1_900, max: 500, next: 500}, // 1.9 kB a pod: a full page fits
    {limit: 500, items: 500, chars: 500 * 3_800, max: 500, next: Math.floor(PAGE_TARGET_CHARS / 3_800)}, // a real server's managedFields: 263
    {limit: 263, items: 263, chars: 263 * 1_000, max: 500, next: 500}, // smaller items again: back up to the most
    {limit: 500, items: 500, chars: 500 * 100_000, max: 500, next: MIN_PAGE_ITEMS}, // huge items: never below the least
    {limit: 3, items: 3, chars: 3 * 100, max: 3, next: 3}, // a caller's page size is the most
    {limit: 500, items: 0, chars: 20, max: 500, next: 500}, // an empty page says nothing about size
    {limit: 500, items: 500, chars: undefined, max: 500, next: 500}, // a client that does not count
  ])('$items items in $chars characters, at most $max: next $next', ({limit, items, chars, max, next}) => {
    expect(nextPageLimit(limit, items, chars, max)).toBe(next)
  })

  it('listRecords asks the next page by the size of the last one', async () => {
    const limits: number[] = []
    let page = 0
    const client = {
      async request(request: {query: {limit: number}}) {
        limits.push(request.query.limit)
        const items = Array.from({length: 3}, (_, i) => ({metadata: rawPod(page * 3 + i)}))
        page++
        // Each item counted as 10 kB of JSON: the next pages shrink to PAGE_TARGET_CHARS / 10 kB items.
        return {status: 200, headers: {}, body: {metadata: {continue: page < 3 ? `p${page}` : undefined}, items}, bodyChars: 3 * 10_000}
      },
    } as unknown as KubeClient
    await listRecords(client, {resource: resolveResource('pods')}, reducer())
    expect(limits).toEqual([MAX_PAGE_ITEMS, PAGE_TARGET_CHARS / 10_000, PAGE_TARGET_CHARS / 10_000])
  })
})
