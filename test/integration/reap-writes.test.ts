// The writes of src/reap driven in-process (so the mutation run reaches them) against the fake API
// server: the guarded DELETE path (deleteItems) and every way its answer can go (accepted, already
// gone, replaced, refused, lost after applying, lost before applying, interrupted in flight), the
// Events posted for what was done, the settling of earlier runs' unknown actions, and opening the
// cluster from the flags. Each outcome is asserted on what the API server holds afterwards, on the
// report item, and on the journal (intent before the request, outcome after it).
import os from 'node:os'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi} from 'vitest'
import {reportingInstanceFor} from '../../src/core/events.js'
import type {ReportItem} from '../../src/core/report.js'
import {KubeClient} from '../../src/kube/client.js'
import {loadKubeTarget} from '../../src/kube/config.js'
import {resolveResource} from '../../src/kube/resources.js'
import {EVENTS_BUDGET_MS, announceActions, postActionEvents} from '../../src/reap/events.js'
import {deleteItems} from '../../src/reap/guarded-delete.js'
import {openKube, openKubeRecorded, runMetaFromFlags, scopeName} from '../../src/reap/session.js'
import {type SettlementLedger, settleEarlierRuns, settleEarlierUnknowns, settledLine} from '../../src/reap/settle.js'
import type {Settlement, UnsettledAction} from '../../src/store/types.js'
import type {FakeKube, FakeObject} from '../support/fake-kube/index.js'
import {type KubeWorld, startKubeWorld} from '../support/reap-world.js'
import {recordingJournal, recordingProgress} from '../support/recording.js'

const NS = 'airflow'
let kube: FakeKube
let client: KubeClient
let kubeconfig: string
let world: KubeWorld

beforeAll(async () => {
  world = await startKubeWorld('writes')
  ;({kube, client, kubeconfig} = world)
})

/** Clients of their own (a request timeout, retries), closed with the world. */
const clients: KubeClient[] = []
function clientWith(requestTimeoutMs?: number): KubeClient {
  const c = new KubeClient(loadKubeTarget({kubeconfig, requestTimeoutMs}), {retry: {maxAttempts: 1}})
  clients.push(c)
  return c
}

afterAll(async () => {
  for (const c of clients) c.close()
  await world?.close()
})

let counter = 0
let prefix: string
beforeEach(() => {
  prefix = `p${++counter}`
  kube.requests.length = 0
})
afterEach(() => {
  kube.resetBehaviour()
  for (const resource of ['pods', 'jobs', 'events']) for (const o of kube.listObjects(resource)) kube.removeObject(resource, o.metadata.namespace, o.metadata.name)
})

function itemOfPod(pod: FakeObject, extra: Partial<ReportItem> = {}): ReportItem {
  return {
    kind: 'Pod',
    namespace: pod.metadata.namespace as string,
    name: pod.metadata.name as string,
    uid: pod.metadata.uid as string,
    ageSeconds: 600,
    reason: 'no-active-task-instance',
    detail: 'zombie',
    taskInstance: null,
    action: 'none',
    ...extra,
  }
}

/** A pod on a node (deleted gracefully: it stays Terminating) or unscheduled (deleted at once). */
function pod(name: string, options: {scheduled?: boolean; namespace?: string; finalizers?: string[]} = {}): FakeObject {
  return kube.addPod({namespace: options.namespace ?? NS, name: `${prefix}-${name}`, nodeName: options.scheduled === false ? null : 'fake-node', finalizers: options.finalizers})
}

const podThere = (name: string, namespace = NS) => kube.getObject('pods', namespace, `${prefix}-${name}`)
const pods = resolveResource('pods')
const options = (extra: Partial<Parameters<typeof deleteItems>[2]> = {}) => ({resource: pods, serverDryRun: false, concurrency: 2, progress: recordingProgress(), ...extra})

describe('deleteItems: each answer to the guarded DELETE, as the item, the journal and the cluster show it', () => {
  it('accepted: deleted, journaled before and after, progress counted, the UID sent as precondition', async () => {
    const item = itemOfPod(pod('a'))
    const journal = recordingJournal()
    const progress = recordingProgress()
    await deleteItems(client, [item], options({journal, progress, gracePeriodSeconds: 5, propagationPolicy: 'Background'}))
    expect(item.action).toBe('deleted')
    expect(journal.calls).toEqual([`intent delete Pod/${item.name}`, `outcome Pod/${item.name} deleted`])
    expect(progress.updates).toEqual(['deleting 1/1'])
    const [request] = kube.requests.filter((r) => r.method === 'DELETE')
    expect(request!.body).toEqual({kind: 'DeleteOptions', apiVersion: 'v1', preconditions: {uid: item.uid}, gracePeriodSeconds: 5, propagationPolicy: 'Background'})
    expect(request!.body).not.toHaveProperty('dryRun')
    expect(podThere('a')).toBeUndefined()
  })

  it('already gone: skipped already-gone, said in the detail', async () => {
    const item = itemOfPod(pod('a'))
    kube.removeObject('pods', NS, item.name)
    await deleteItems(client, [item], options())
    expect(item).toMatchObject({action: 'skipped', skipReason: 'already-gone', detail: 'zombie; already gone when we came to delete it'})
  })

  it('replaced by a namesake (another UID): skipped replaced, the namesake untouched', async () => {
    const item = itemOfPod(pod('a'), {uid: 'uid-of-the-pod-we-judged'})
    await deleteItems(client, [item], options())
    expect(item).toMatchObject({action: 'skipped', skipReason: 'replaced', detail: 'zombie; a new pod with the same name exists (different UID), left alone'})
    expect(podThere('a')?.metadata.deletionTimestamp).toBeFalsy()
  })

  it('--dry-run=server: dryRun=All sent, nothing changes, no intent journaled, only the outcome', async () => {
    const item = itemOfPod(pod('a'))
    const journal = recordingJournal()
    await deleteItems(client, [item], options({serverDryRun: true, journal}))
    expect(item).toMatchObject({action: 'none', detail: 'zombie; server dry run: the API server would accept the delete'})
    expect(journal.calls).toEqual([`outcome Pod/${item.name} none`])
    expect(kube.requests.find((r) => r.method === 'DELETE')!.body).toMatchObject({dryRun: ['All']})
    expect(podThere('a')?.metadata.deletionTimestamp).toBeFalsy()
  })

  it('--dry-run=server whose answer is lost: failed, never settled as deleted', async () => {
    const item = itemOfPod(pod('a'))
    kube.inject({method: 'DELETE', status: 503, body: 'upstream connect error'})
    await deleteItems(client, [item], options({serverDryRun: true}))
    expect(item.action).toBe('failed')
    expect(item.error).toMatch(/503/)
    expect(kube.requests.filter((r) => r.method === 'GET')).toEqual([])
  })

  it('refused by RBAC: failed with the permission named, and the rest of that namespace not sent', async () => {
    kube.addNamespace('other')
    const items = [itemOfPod(pod('a')), itemOfPod(pod('b')), itemOfPod(pod('c')), itemOfPod(pod('d', {namespace: 'other'}))]
    kube.deny({verb: 'delete', resource: 'pods', namespace: NS})
    await deleteItems(client, items, options({concurrency: 1}))
    expect(items.map((i) => [i.name.slice(prefix.length + 1), i.action, i.skipReason])).toEqual([
      ['a', 'failed', undefined],
      ['b', 'skipped', 'not-permitted'],
      ['c', 'skipped', 'not-permitted'],
      ['d', 'deleted', undefined],
    ])
    expect(items[0]!.error).toMatch(/delete.*pods/)
    expect(items[1]!.detail).toMatch(/^zombie; not sent: RBAC denied/)
    expect(kube.requests.filter((r) => r.method === 'DELETE')).toHaveLength(2)
  })

  it('refused by the API server (4xx other than 404/409): failed, not read back, the others still sent', async () => {
    const items = [itemOfPod(pod('a')), itemOfPod(pod('b'))]
    kube.inject({method: 'DELETE', pathIncludes: items[0]!.name, status: 422, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'admission webhook said no', reason: 'Invalid', code: 422}})
    await deleteItems(client, items, options({concurrency: 1}))
    expect(items.map((i) => i.action)).toEqual(['failed', 'deleted'])
    expect(items[0]!.error).toMatch(/admission webhook said no/)
    expect(kube.requests.filter((r) => r.method === 'GET')).toEqual([])
  })

  // The DELETE may have applied but its answer never came: the object is read back.
  it.each([
    {
      what: 'applied, then a 500: a pod held by a finalizer is terminating ⇒ deleted',
      scheduled: true,
      finalizers: ['example.com/keep'],
      injection: {status: 500, apply: true},
      action: 'deleted',
      text: /^zombie; the DELETE got no clear answer \(.*\), and the pod is terminating$/,
    },
    {
      what: 'applied, then a 500: an unscheduled pod is gone ⇒ deleted',
      scheduled: false,
      injection: {status: 500, apply: true},
      action: 'deleted',
      text: /^zombie; the DELETE got no clear answer \(.*\), and the pod is gone$/,
    },
    {
      what: 'a 500 that did not apply: the server answered, the pod untouched ⇒ failed',
      scheduled: true,
      injection: {status: 500},
      action: 'failed',
      error: /; the pod is still there and not being deleted$/,
    },
    {
      what: 'a reset before it applied: nothing disproves a queued request ⇒ unknown',
      scheduled: true,
      injection: {status: 0, reset: true},
      action: 'unknown',
      error: /; its answer was lost; it may still apply \(the pod is still there, not yet being deleted; a later run settles it\)$/,
    },
  ])('$what', async ({scheduled, finalizers, injection, action, text, error}) => {
    const item = itemOfPod(pod('a', {scheduled, finalizers}))
    const journal = recordingJournal()
    kube.inject({method: 'DELETE', ...injection, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'etcd timed out', reason: 'InternalError', code: 500}})
    await deleteItems(client, [item], options({journal}))
    expect(item.action).toBe(action)
    if (text) expect(item.detail).toMatch(text)
    if (error) expect(item.error).toMatch(error)
    expect(journal.calls).toEqual([`intent delete Pod/${item.name}`, `outcome Pod/${item.name} ${action}`])
    expect(kube.requests.filter((r) => r.method === 'GET')).toHaveLength(1)
  })

  // Guard: mayHaveApplied's earlierAttemptMayHaveApplied. A 4xx alone means nothing changed; after an
  // attempt whose answer was lost it proves nothing, and the object is read back.
  it('a 422 on the retry of a DELETE whose first answer was lost: read back, and deleted when it is gone', async () => {
    const retrying = new KubeClient(loadKubeTarget({kubeconfig}), {retry: {maxAttempts: 2, baseDelayMs: 10}})
    clients.push(retrying)
    const item = itemOfPod(pod('a', {scheduled: false}))
    kube.inject({method: 'DELETE', status: 0, reset: true, apply: true})
    kube.inject({method: 'DELETE', status: 422, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'webhook says no', reason: 'Invalid', code: 422}})
    await deleteItems(retrying, [item], options())
    expect(kube.requests.filter((r) => r.method === 'DELETE')).toHaveLength(2)
    expect(item.action).toBe('deleted')
    expect(item.detail).toMatch(/; the DELETE got no clear answer \(.*webhook says no.*\), and the pod is gone$/)
  })

  // An admission webhook may refuse one object and accept the next: only an RBAC 403 stops the rest.
  it('a 403 from an admission webhook fails that one only; the rest are still sent', async () => {
    const items = [itemOfPod(pod('a')), itemOfPod(pod('b'))]
    kube.inject({
      method: 'DELETE',
      pathIncludes: items[0]!.name,
      status: 403,
      body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'admission webhook "guard.example.com" denied the request: protected', reason: 'Forbidden', code: 403},
    })
    await deleteItems(client, items, options({concurrency: 1}))
    expect(items.map((i) => i.action)).toEqual(['failed', 'deleted'])
    expect(items[0]!.error).toMatch(/admission webhook/)
  })

  it('a lost answer whose read-back gets no answer either: unknown within the read-back deadline', async () => {
    const item = itemOfPod(pod('a'))
    kube.inject({method: 'DELETE', status: 0, reset: true})
    kube.inject({method: 'GET', status: 200, delayMs: 3000, body: {}})
    const started = Date.now()
    await deleteItems(client, [item], options())
    expect(Date.now() - started).toBeLessThan(2500)
    expect(item.action).toBe('unknown')
    expect(item.error).toMatch(/reading the pod back failed too \(no answer within 1s\)$/)
  })

  it('a DELETE whose answer is lost and whose read-back fails too: unknown, saying both', async () => {
    const item = itemOfPod(pod('a'))
    kube.inject({method: 'DELETE', status: 0, reset: true})
    kube.inject({method: 'GET', status: 500, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'read failed', reason: 'InternalError', code: 500}})
    await deleteItems(client, [item], options())
    expect(item.action).toBe('unknown')
    expect(item.error).toMatch(/; the DELETE may have been applied, and reading the pod back failed too \(.*read failed.*\)$/)
  })

  it('a DELETE that times out: unknown, "timed out; it may still apply"', async () => {
    const slow = clientWith(300)
    const item = itemOfPod(pod('a'))
    kube.inject({method: 'DELETE', status: 200, delayMs: 1500, body: {kind: 'Status', apiVersion: 'v1', status: 'Success'}})
    await deleteItems(slow, [item], options())
    expect(item.action).toBe('unknown')
    expect(item.error).toMatch(/the request timed out; it may still apply \(the pod is still there/)
  })

  it('interrupted before the first DELETE: none sent, each reported interrupted', async () => {
    const items = [itemOfPod(pod('a')), itemOfPod(pod('b'))]
    const controller = new AbortController()
    controller.abort()
    await deleteItems(client, items, options({signal: controller.signal}))
    expect(items.map((i) => [i.action, i.skipReason])).toEqual([
      ['skipped', 'interrupted'],
      ['skipped', 'interrupted'],
    ])
    expect(kube.requests.filter((r) => r.method === 'DELETE')).toEqual([])
  })

  it('interrupted with a DELETE in flight: it gets a grace to be answered, then is settled by reading back (unknown)', async () => {
    const items = [itemOfPod(pod('a')), itemOfPod(pod('b'))]
    const controller = new AbortController()
    kube.inject({method: 'DELETE', status: 200, delayMs: 3000, body: {kind: 'Status', apiVersion: 'v1', status: 'Success'}})
    kube.beforeRequest((r) => {
      if (r.method === 'DELETE') setTimeout(() => controller.abort(), 50)
    })
    const started = Date.now()
    await deleteItems(client, items, options({concurrency: 1, signal: controller.signal}))
    expect(Date.now() - started).toBeLessThan(2500)
    expect(items[0]!.action).toBe('unknown')
    expect(items[0]!.error).toMatch(/the request was cut short by the interrupt; it may still apply/)
    expect(items[1]).toMatchObject({action: 'skipped', skipReason: 'interrupted'})
  })
})

describe('postActionEvents: one Event per action taken, best effort', () => {
  const NANOS = 1_780_000_000_123_456_789n

  function acted(): ReportItem[] {
    const job = kube.addObject('jobs', {apiVersion: 'batch/v1', kind: 'Job', metadata: {name: `${prefix}-job`, namespace: NS}, spec: {}})
    return [
      itemOfPod(pod('a'), {action: 'deleted'}),
      {...itemOfPod(pod('b')), kind: 'Job', name: job.metadata.name as string, uid: job.metadata.uid as string, action: 'patched', reason: 'stuck-terminating'},
      itemOfPod(pod('c'), {action: 'skipped', skipReason: 'too-young'}),
      itemOfPod(pod('d'), {action: 'failed', error: 'x'}),
      itemOfPod(pod('e'), {action: 'none'}),
    ]
  }
  const eventOptions = (extra = {}) => ({progress: recordingProgress(), reportingInstance: 'airflow-reap-test', nowNanos: () => NANOS, ...extra})
  const eventPosts = () => kube.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/events'))

  it('deleted and patched items get an Event regarding them (apiVersion of their kind); the others none', async () => {
    const progress = recordingProgress()
    const warnings = await postActionEvents(client, acted(), eventOptions({progress}))
    expect(warnings).toEqual([])
    expect(progress.updates).toEqual(['posting 2 Kubernetes events'])
    const events = kube.listObjects('events', NS)
    expect(events.map((e) => [(e.regarding as {kind: string}).kind, (e.regarding as {apiVersion: string}).apiVersion, e.reportingInstance]).sort()).toEqual([
      ['Job', 'batch/v1', 'airflow-reap-test'],
      ['Pod', 'v1', 'airflow-reap-test'],
    ])
    expect(events.every((e) => e.eventTime === '2026-05-28T20:26:40.123456Z')).toBe(true)
  })

  it('an object of a kind this version does not list is named as a core (v1) object', async () => {
    const item = {...itemOfPod(pod('a'), {action: 'deleted'}), kind: 'Widget'}
    expect(await postActionEvents(client, [item], eventOptions())).toEqual([])
    expect(kube.listObjects('events', NS).map((e) => e.regarding)).toEqual([expect.objectContaining({kind: 'Widget', apiVersion: 'v1'})])
  })

  it('nothing acted on: nothing posted, no progress', async () => {
    const progress = recordingProgress()
    expect(await postActionEvents(client, acted().slice(2), eventOptions({progress}))).toEqual([])
    expect(eventPosts()).toEqual([])
    expect(progress.updates).toEqual([])
  })

  it('the first post refused by RBAC: one warning with the hint, the others not even tried', async () => {
    kube.deny({verb: 'create', resource: 'events', group: 'events.k8s.io'})
    const items = [...acted(), itemOfPod(pod('f'), {action: 'deleted'})]
    const warnings = await postActionEvents(client, items, eventOptions())
    expect(eventPosts()).toHaveLength(1)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^Kubernetes events not posted for 3 of 3 actions: RBAC denied.* \(grant create on events\.events\.k8s\.io, or pass --no-events\)$/)
  })

  it('a failing API server: the warning says how many were not posted, and no RBAC hint', async () => {
    const items = [itemOfPod(pod('a'), {action: 'deleted'}), itemOfPod(pod('b'), {action: 'deleted'}), itemOfPod(pod('c'), {action: 'deleted'})]
    kube.inject({method: 'POST', pathIncludes: '/events', match: (r) => JSON.stringify(r.body).includes(items[1]!.name), status: 500, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'etcdserver: request timed out', reason: 'InternalError', code: 500}})
    const warnings = await postActionEvents(client, items, eventOptions())
    expect(warnings).toEqual([expect.stringMatching(/^Kubernetes events not posted for 1 of 3 actions: .*etcdserver: request timed out[^)]*$/)])
  })

  it('a server that does not answer within the budget: the warning says so', async () => {
    kube.inject({method: 'POST', pathIncludes: '/events', status: 201, delayMs: 1500, body: {}})
    const warnings = await postActionEvents(client, [itemOfPod(pod('a'), {action: 'deleted'})], eventOptions({budgetMs: 200}))
    expect(warnings).toEqual(['Kubernetes events not posted for 1 of 1 actions: no answer within 0.2s'])
    expect(EVENTS_BUDGET_MS).toBe(10_000)
  })

  it('announceActions: the host as reporting instance, the wall clock, each warning on stderr too', async () => {
    const progress = recordingProgress()
    const before = Date.now()
    expect(await announceActions(client, [itemOfPod(pod('a'), {action: 'deleted'})], progress)).toEqual([])
    const [event] = kube.listObjects('events', NS)
    expect(event!.reportingInstance).toBe(reportingInstanceFor(os.hostname()))
    expect(Math.abs(Date.parse(event!.eventTime as string) - before)).toBeLessThan(60_000)
    kube.deny({verb: 'create', resource: 'events', group: 'events.k8s.io'})
    const warnings = await announceActions(client, [itemOfPod(pod('b'), {action: 'deleted'})], progress)
    expect(warnings).toHaveLength(1)
    expect(progress.warnings).toEqual(warnings)
  })
})

describe('settling earlier runs\' unknown actions', () => {
  function ledgerOf(actions: UnsettledAction[]): SettlementLedger & {settled: [number, Omit<Settlement, 'byRunId'>][]; asked: [string, number][]} {
    const settled: [number, Omit<Settlement, 'byRunId'>][] = []
    const asked: [string, number][] = []
    return {
      settled,
      asked,
      unsettledActions: (server, limit) => {
        asked.push([server, limit])
        return actions
      },
      recordSettlement: (itemId, settlement) => void settled.push([itemId, settlement]),
    }
  }
  const action = (itemId: number, object: {name: string; uid: string}, extra: Partial<UnsettledAction> = {}): UnsettledAction => ({
    itemId,
    runId: 1,
    command: 'zombies',
    kind: 'Pod',
    namespace: NS,
    name: object.name,
    uid: object.uid,
    verb: 'delete',
    actedAt: new Date(Date.now() - 60_000).toISOString(),
    ...extra,
  })
  const ref = (o: FakeObject) => ({name: o.metadata.name as string, uid: o.metadata.uid as string})

  it('gone ⇒ deleted; terminating ⇒ deleted; long untouched ⇒ failed; a Job gone ⇒ patched; recent or another kind: left', async () => {
    const gone = {name: `${prefix}-gone`, uid: 'uid-gone'}
    const terminating = pod('t', {finalizers: ['example.com/keep']})
    kube.updateObject('pods', NS, terminating.metadata.name as string, (o) => void (o.metadata.deletionTimestamp = new Date(Date.now() - 30_000).toISOString()))
    const untouched = pod('u')
    const replaced = pod('r')
    const longAgo = new Date(Date.now() - 20 * 60_000).toISOString()
    const ledger = ledgerOf([
      action(1, gone),
      action(2, ref(terminating)),
      action(3, ref(untouched), {actedAt: longAgo}),
      action(4, {name: 'x', uid: 'y'}, {kind: 'NotAKind'}),
      action(5, ref(untouched)),
      action(6, {name: replaced.metadata.name as string, uid: 'an-older-uid'}),
      action(7, {name: `${prefix}-job`, uid: 'uid-job'}, {kind: 'Job', verb: 'patch'}),
    ])
    const at = new Date()
    const count = await settleEarlierUnknowns(client, ledger, undefined, () => at)
    expect(ledger.asked).toEqual([[client.server, 50]])
    expect(count.looked).toBe(7)
    expect(ledger.settled.map(([id, s]) => [id, s.action, s.at]).sort()).toEqual([
      [1, 'deleted', at.toISOString()],
      [2, 'deleted', at.toISOString()],
      [3, 'failed', at.toISOString()],
      [6, 'deleted', at.toISOString()],
      [7, 'patched', at.toISOString()],
    ])
    expect(count.settled).toEqual({deleted: 3, patched: 1, failed: 1})
    expect(settledLine(count)).toBe('settled actions of earlier runs recorded unknown: 3 deleted, 1 patched, 1 failed (history show RUN_ID shows them)')
  })

  it('an object that cannot be read now is left for a later run', async () => {
    const p = pod('a')
    kube.inject({method: 'GET', status: 500, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'no', reason: 'InternalError', code: 500}})
    const ledger = ledgerOf([action(1, ref(p))])
    const count = await settleEarlierUnknowns(client, ledger)
    expect(ledger.settled).toEqual([])
    expect(count).toEqual({looked: 1, settled: {deleted: 0, patched: 0, failed: 0}})
    expect(settledLine(count)).toBeUndefined()
  })

  it('the run interrupted while settling: the look-ups end with it, nothing settled', async () => {
    const p = pod('a')
    kube.inject({method: 'GET', status: 200, delayMs: 3000, body: {}, times: Infinity})
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    const ledger = ledgerOf([action(1, ref(p))])
    const started = Date.now()
    await settleEarlierUnknowns(client, ledger, controller.signal)
    expect(Date.now() - started).toBeLessThan(800)
    expect(ledger.settled).toEqual([])
  })

  it('nothing unsettled: no request at all', async () => {
    const count = await settleEarlierUnknowns(client, ledgerOf([]))
    expect(count).toEqual({looked: 0, settled: {deleted: 0, patched: 0, failed: 0}})
    expect(kube.requests).toEqual([])
  })

  it('settleEarlierRuns: says what it settled, and does nothing without a store', async () => {
    const progress = recordingProgress()
    await settleEarlierRuns(client, {ledger: () => undefined}, progress)
    expect(progress.updates).toEqual([])
    await settleEarlierRuns(client, {ledger: () => ledgerOf([action(1, {name: `${prefix}-gone`, uid: 'u'})])}, progress)
    expect(progress.updates).toEqual(['settling actions of earlier runs whose outcome was unknown'])
    expect(progress.notes).toEqual(['settled actions of earlier runs recorded unknown: 1 deleted (history show RUN_ID shows them)'])
    const quiet = recordingProgress()
    await settleEarlierRuns(client, {ledger: () => ledgerOf([])}, quiet)
    expect(quiet.notes).toEqual([])
  })
})

describe('session: opening the cluster from the flags', () => {
  it('the namespace of -n, of the context, or all; the scope as recorded', () => {
    const named = openKube({kubeconfig, namespace: 'team-a', allNamespaces: false})
    const all = openKube({kubeconfig, allNamespaces: true})
    try {
      expect(named.namespace).toBe('team-a')
      expect(scopeName(named)).toBe('team-a')
      expect(all.namespace).toBeUndefined()
      expect(scopeName(all)).toBe('*')
      expect(named.target.requestTimeoutMs).toBe(60_000)
      expect(openKube({kubeconfig, allNamespaces: false, requestTimeoutSeconds: 5}).target.requestTimeoutMs).toBe(5000)
      expect(openKube({kubeconfig, allNamespaces: false, requestTimeoutSeconds: 0}).target.requestTimeoutMs).toBe(0)
    } finally {
      named.client.close()
      all.client.close()
    }
  })

  it('runMetaFromFlags: the target as the flags give it, before the kubeconfig is read', () => {
    const dryRun = {dryRun: true, dryRunMode: 'server' as const}
    expect(runMetaFromFlags('unstick', {allNamespaces: true, context: 'c1'}, dryRun)).toEqual({
      command: 'unstick',
      argv: process.argv.slice(2),
      context: 'c1',
      server: '',
      namespace: '*',
      dryRun: true,
      dryRunMode: 'server',
    })
    expect(runMetaFromFlags('zombies', {allNamespaces: false, namespace: 'ns'}, {dryRun: false})).toMatchObject({context: '', namespace: 'ns'})
    expect(runMetaFromFlags('zombies', {allNamespaces: false}, {dryRun: false}).namespace).toBe('')
  })

  it('without a progress, a throttled request is said on stderr', async () => {
    const written: string[] = []
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0)
    const session = openKube({kubeconfig, namespace: NS, allNamespaces: false})
    try {
      kube.inject({method: 'GET', pathIncludes: '/pods/throttled', status: 429, headers: {'Retry-After': '1'}, body: 'Too many requests, please try again later.\n'})
      await session.client.request({method: 'GET', path: `/api/v1/namespaces/${NS}/pods/throttled`, allowStatus: [404]})
    } finally {
      spy.mockRestore()
      session.client.close()
    }
    expect(written).toEqual([expect.stringMatching(/^warning: the API server is throttling requests \(429 Too Many Requests\).*\n$/)])
  })

  it('openKubeRecorded: the target recorded at once; throttling notes go to the progress', async () => {
    const updates: unknown[] = []
    const progress = recordingProgress()
    const session = openKubeRecorded({kubeconfig, namespace: NS, allNamespaces: false}, {update: (u) => void updates.push(u)}, progress)
    try {
      expect(updates).toEqual([{context: session.target.contextName, server: kube.url, namespace: NS}])
      kube.inject({method: 'GET', pathIncludes: '/pods/throttled', status: 429, headers: {'Retry-After': '1'}, body: 'Too many requests, please try again later.\n'})
      await session.client.request({method: 'GET', path: `/api/v1/namespaces/${NS}/pods/throttled`, allowStatus: [404]})
      expect(progress.notes).toEqual([expect.stringMatching(/^warning: the API server is throttling requests \(429 Too Many Requests\)/)])
    } finally {
      session.client.close()
    }
  })
})
