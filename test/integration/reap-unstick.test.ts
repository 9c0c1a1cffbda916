// unstick (src/reap/unstick.ts) driven in-process against the fake API server, so the mutation run
// reaches it: the scan (listed and named targets, Job advice, dependents), the guarded finalizer patch
// and every way its answer can go (patched, gone, changed meanwhile, refused, lost after or before
// applying, interrupted), --dry-run=server, and --wait.
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import type {ReportItem} from '../../src/core/report.js'
import type {KubeClient} from '../../src/kube/client.js'
import {resolveResource} from '../../src/kube/resources.js'
import {type UnstickConfig, type UnstickTarget, reportItems, scanStuck, unstick, waitUntilFreed} from '../../src/reap/unstick.js'
import type {FakeKube, FakeObject} from '../support/fake-kube/index.js'
import {type KubeWorld, startKubeWorld} from '../support/reap-world.js'
import {recordingJournal, recordingProgress} from '../support/recording.js'

const NS = 'airflow'
const MINUTE = 60_000
let kube: FakeKube
let client: KubeClient
let world: KubeWorld

beforeAll(async () => {
  world = await startKubeWorld('unstick')
  ;({kube, client} = world)
})

afterAll(async () => {
  await world?.close()
})

let counter = 0
let prefix: string
beforeEach(() => {
  prefix = `j${++counter}`
  kube.requests.length = 0
})
afterEach(() => {
  kube.resetBehaviour()
  for (const resource of ['pods', 'jobs']) for (const o of kube.listObjects(resource)) kube.removeObject(resource, o.metadata.namespace, o.metadata.name)
})

const jobs = resolveResource('jobs')
const config = (extra: Partial<UnstickConfig> = {}): UnstickConfig => ({
  namespace: NS,
  targets: [{resource: jobs}],
  olderThanSeconds: 60,
  extraFinalizers: [],
  deleteDependents: false,
  serverDryRun: false,
  concurrency: 2,
  ...extra,
})

interface JobOptions {
  finalizers?: string[]
  deletedMinutesAgo?: number | null
  ttl?: number
  ownedByCronJob?: boolean
  namespace?: string
  /** deletionGracePeriodSeconds: > 0 keeps it Terminating after its last finalizer goes (default 0). */
  grace?: number
}

/** A Job, by default deleted an hour ago and held by the orphan finalizer. */
function job(suffix: string, options: JobOptions = {}): FakeObject {
  const deleted = options.deletedMinutesAgo === undefined ? 60 : options.deletedMinutesAgo
  const metadata: Record<string, unknown> = {
    name: `${prefix}-${suffix}`,
    namespace: options.namespace ?? NS,
    finalizers: options.finalizers ?? ['orphan'],
    creationTimestamp: new Date(Date.now() - 120 * MINUTE).toISOString(),
  }
  if (deleted !== null) {
    metadata.deletionTimestamp = new Date(Date.now() - deleted * MINUTE).toISOString()
    metadata.deletionGracePeriodSeconds = options.grace ?? 0
  }
  if (options.ownedByCronJob) metadata.ownerReferences = [{apiVersion: 'batch/v1', kind: 'CronJob', name: 'cron', uid: 'cron-uid', controller: true}]
  const spec: Record<string, unknown> = {template: {spec: {restartPolicy: 'Never', containers: [{name: 'main', image: 'busybox'}]}}}
  if (options.ttl !== undefined) spec.ttlSecondsAfterFinished = options.ttl
  return kube.addObject('jobs', {apiVersion: 'batch/v1', kind: 'Job', metadata, spec})
}

const jobThere = (name: string) => kube.getObject('jobs', NS, name)

/** A Job held by foregroundDeletion, and a pod it owns (`${prefix}-fg-pod`). */
function foregroundJobWithPod(): void {
  const owner = job('fg', {finalizers: ['foregroundDeletion']})
  kube.addPod({namespace: NS, name: `${prefix}-fg-pod`, ownerReferences: [{apiVersion: 'batch/v1', kind: 'Job', name: owner.metadata.name, uid: owner.metadata.uid, controller: true}]})
}
const deps = (extra: Partial<Omit<Parameters<typeof scanStuck>[0], 'progress'>> = {}) => ({kube: client, progress: recordingProgress(), ...extra})
const summary = (items: ReportItem[]) => items.map((i) => `${i.kind}/${i.name.replace(`${prefix}-`, '')}:${i.action}${i.skipReason ? `:${i.skipReason}` : ''}`)

async function scanAndUnstick(cfg: UnstickConfig, extra: Partial<Omit<Parameters<typeof scanStuck>[0], 'progress'>> = {}) {
  const d = deps(extra)
  const scan = await scanStuck(d, cfg)
  await unstick(d, scan, cfg)
  return {scan, items: reportItems(scan), deps: d}
}

describe('scan', () => {
  it('lists, keeps the terminating ones old enough, and journals how many it scanned as soon as it has', async () => {
    job('stuck')
    job('young', {deletedMinutesAgo: 0})
    job('alive', {deletedMinutesAgo: null})
    job('foreign', {finalizers: ['example.com/keep']})
    const journal = recordingJournal()
    const progress = recordingProgress()
    const scan = await scanStuck({kube: client, progress, journal}, config())
    expect(scan.scanned).toBe(4)
    expect(journal.listedCounts).toEqual([4])
    // A foreign finalizer is not ours to remove: not a finding at all.
    expect(summary(reportItems(scan)).sort()).toEqual(['Job/stuck:none', 'Job/young:skipped:too-young'])
    expect(scan.warnings).toEqual([])
    expect(progress.updates).toContain('listing jobs')
    expect(progress.updates).toContain('reading 2 stuck objects')
  })

  it('says how many it listed as it goes, and a journal that does not count them is fine', async () => {
    job('stuck')
    const progress = recordingProgress()
    const scan = await scanStuck({kube: client, progress, journal: {intent: () => {}, outcome: () => {}}}, config({targets: [{resource: jobs}, {resource: jobs, name: `${prefix}-stuck`}]}))
    expect(scan.scanned).toBe(2)
    expect(progress.updates).toContain('listing jobs: 1')
  })

  it('Job advice only for Jobs; a CronJob\'s Job is not told its name looks fixed, another owner\'s is', async () => {
    job('fixed', {ttl: 60, ownedByCronJob: true, finalizers: ['foregroundDeletion']})
    kube.addObject('jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: `${prefix}-other`,
        namespace: NS,
        finalizers: ['foregroundDeletion'],
        deletionTimestamp: new Date(Date.now() - 60 * MINUTE).toISOString(),
        deletionGracePeriodSeconds: 0,
        ownerReferences: [{apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', name: 'wf', uid: 'wf-uid', controller: true}],
      },
      spec: {ttlSecondsAfterFinished: 60},
    })
    kube.addObject('deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {name: `${prefix}-web`, namespace: NS, finalizers: ['foregroundDeletion'], deletionTimestamp: new Date(Date.now() - 60 * MINUTE).toISOString(), deletionGracePeriodSeconds: 0},
      spec: {},
    })
    const scan = await scanStuck(deps(), config({targets: [{resource: jobs}, {resource: resolveResource('deployments')}]}))
    const advice = Object.fromEntries(scan.findings.map((f) => [f.object.name.replace(`${prefix}-`, ''), f.advice]))
    expect(advice).toEqual({fixed: [], other: [expect.stringMatching(/^the name ".*-other" looks fixed/)], web: []})
    // No advice, nothing added to the detail.
    const fixed = scan.findings.find((f) => f.object.name.endsWith('-fixed'))!
    expect(fixed.item.detail).toBe(fixed.verdict.detail)
    expect(kube.requests.filter((r) => r.method === 'GET' && r.path.includes('/deployments/'))).toEqual([])
    kube.removeObject('deployments', NS, `${prefix}-web`)
  })

  it('a Job replaced by a namesake since it was listed: skipped already-gone, the namesake not patched', async () => {
    job('replaced')
    kube.beforeRequest((r) => {
      if (r.method === 'GET' && r.path.endsWith(`/jobs/${prefix}-replaced`) && kube.removeObject('jobs', NS, `${prefix}-replaced`)) job('replaced')
    })
    const {items} = await scanAndUnstick(config())
    expect(summary(items)).toEqual(['Job/replaced:skipped:already-gone'])
    expect(kube.requests.filter((r) => r.method === 'PATCH')).toEqual([])
  })

  it('with Job specs denied, the others are not asked for again', async () => {
    job('a')
    job('b')
    kube.deny({verb: 'get', resource: 'jobs', group: 'batch'})
    await scanStuck(deps(), config({concurrency: 1}))
    expect(kube.requests.filter((r) => r.method === 'GET' && r.path.includes('/jobs/'))).toHaveLength(1)
  })

  it('dependents: listed once per type and namespace; none for a finding already skipped', async () => {
    const a = job('a', {finalizers: ['foregroundDeletion']})
    const b = job('b', {finalizers: ['foregroundDeletion']})
    const young = job('young', {finalizers: ['foregroundDeletion'], deletedMinutesAgo: 0})
    for (const owner of [a, b, young]) {
      kube.addPod({namespace: NS, name: `${owner.metadata.name}-pod`, ownerReferences: [{apiVersion: 'batch/v1', kind: 'Job', name: owner.metadata.name, uid: owner.metadata.uid, controller: true}]})
    }
    const progress = recordingProgress()
    const scan = await scanStuck({kube: client, progress}, config())
    expect(kube.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/pods'))).toHaveLength(1)
    const byName = Object.fromEntries(scan.findings.map((f) => [f.object.name.replace(`${prefix}-`, ''), f]))
    expect(byName.a!.item.detail).toContain(`; dependents pod/${prefix}-a-pod would have been deleted by the garbage collector first`)
    expect(byName.young!.dependents).toEqual([])
    expect(progress.updates).toContain(`listing pods owned by job/${NS}/${prefix}-a`)
  })

  it('a dependent that is itself stuck keeps its own line, and is not also deleted as a dependent', async () => {
    const owner = job('fg', {finalizers: ['foregroundDeletion']})
    kube.addPod({
      namespace: NS,
      name: `${prefix}-fg-pod`,
      finalizers: ['orphan'],
      deletionTimestamp: new Date(Date.now() - 60 * MINUTE),
      ownerReferences: [{apiVersion: 'batch/v1', kind: 'Job', name: owner.metadata.name, uid: owner.metadata.uid, controller: true}],
    })
    const cfg = config({deleteDependents: true, targets: [{resource: jobs}, {resource: resolveResource('pods')}]})
    const {items} = await scanAndUnstick(cfg)
    expect(summary(items).sort()).toEqual(['Job/fg:patched', 'Pod/fg-pod:patched'])
    expect(kube.requests.filter((r) => r.method === 'DELETE')).toEqual([])
  })

  it('--finalizer makes a foreign finalizer removable', async () => {
    job('foreign', {finalizers: ['example.com/keep']})
    const {items} = await scanAndUnstick(config({extraFinalizers: ['example.com/keep']}))
    expect(summary(items)).toEqual(['Job/foreign:patched'])
    expect(jobThere(`${prefix}-foreign`)).toBeUndefined()
  })

  it('named targets: read by GET; a missing one or one not stuck is a warning, nothing to do', async () => {
    job('stuck')
    job('alive', {deletedMinutesAgo: null})
    const targets: UnstickTarget[] = ['stuck', 'alive', 'missing'].map((n) => ({resource: jobs, name: `${prefix}-${n}`}))
    const journal = recordingJournal()
    const scan = await scanStuck({kube: client, progress: recordingProgress(), journal}, config({targets}))
    expect(scan.scanned).toBe(2)
    expect(journal.listedCounts).toEqual([1, 2])
    expect(summary(reportItems(scan))).toEqual(['Job/stuck:none'])
    expect(scan.warnings).toEqual([
      `job/${NS}/${prefix}-missing: not found; the name is free`,
      `job/${NS}/${prefix}-alive: not being deleted; nothing to do`,
    ])
    // Listed by nothing; the named Job read once, its spec reused for the advice.
    expect(kube.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/jobs'))).toEqual([])
    expect(kube.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/jobs/${prefix}-stuck`))).toHaveLength(1)
  })

  it('an object both listed and named is judged once', async () => {
    job('stuck')
    const scan = await scanStuck(deps(), config({targets: [{resource: jobs}, {resource: jobs, name: `${prefix}-stuck`}]}))
    expect(summary(reportItems(scan))).toEqual(['Job/stuck:none'])
    expect(scan.scanned).toBe(2)
  })

  it('a label selector narrows the list', async () => {
    job('stuck')
    const scan = await scanStuck(deps(), config({selector: 'app=other'}))
    expect(scan.findings).toEqual([])
    expect(kube.requests.find((r) => r.method === 'GET' && r.path.endsWith('/jobs'))!.query.labelSelector).toBe('app=other')
  })

  it('Job advice from its spec: no TTL, a fixed name, the orphan propagation; none for a CronJob\'s Job with a TTL', async () => {
    job('fixed')
    job('cron-28374650', {ttl: 100, ownedByCronJob: true, finalizers: ['foregroundDeletion']})
    const scan = await scanStuck(deps(), config())
    const advice = Object.fromEntries(scan.findings.map((f) => [f.object.name.replace(`${prefix}-`, ''), f.advice]))
    expect(advice.fixed).toEqual([
      expect.stringMatching(/^no ttlSecondsAfterFinished/),
      expect.stringMatching(/^the name ".*-fixed" looks fixed/),
      expect.stringMatching(/^deleted with propagation Orphan/),
    ])
    expect(advice['cron-28374650']).toEqual([])
    const fixed = scan.findings.find((f) => f.object.name.endsWith('-fixed'))!
    expect(fixed.item.detail).toContain(`; ${fixed.advice.join('; ')}`)
  })

  it('a Job gone or replaced since it was listed: skipped already-gone, not patched', async () => {
    job('gone')
    kube.beforeRequest((r) => {
      if (r.method === 'GET' && r.path.endsWith(`/jobs/${prefix}-gone`)) kube.removeObject('jobs', NS, `${prefix}-gone`)
    })
    const {items} = await scanAndUnstick(config())
    expect(summary(items)).toEqual(['Job/gone:skipped:already-gone'])
    expect(items[0]!.detail).toMatch(/; gone \(or replaced\) since it was listed$/)
    expect(kube.requests.filter((r) => r.method === 'PATCH')).toEqual([])
  })

  it('Job specs not readable (RBAC): a warning, no advice, the Job still unstuck', async () => {
    job('stuck')
    kube.deny({verb: 'get', resource: 'jobs', group: 'batch'})
    const {scan, items} = await scanAndUnstick(config())
    expect(scan.warnings).toEqual([expect.stringMatching(/^Job specs not read, so no advice on ttlSecondsAfterFinished: RBAC denied/)])
    expect(summary(items)).toEqual(['Job/stuck:patched'])
    // Without the spec, nothing is said about a TTL it cannot see.
    expect(scan.findings[0]!.advice.some((a) => a.includes('ttlSecondsAfterFinished'))).toBe(false)
  })

  it('a failure reading a Job spec other than RBAC stops the scan', async () => {
    job('stuck')
    kube.inject({method: 'GET', pathIncludes: `/jobs/${prefix}-stuck`, status: 500, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'etcd down', reason: 'InternalError', code: 500}})
    await expect(scanStuck(deps(), config())).rejects.toThrow(/etcd down/)
  })
})

describe('the guarded finalizer patch', () => {
  it('patched: the exact list and resourceVersion tested, journaled before and after, the Job gone', async () => {
    const stuck = job('stuck')
    const journal = recordingJournal()
    const {items, deps: d} = await scanAndUnstick(config(), {journal})
    expect(summary(items)).toEqual(['Job/stuck:patched'])
    expect(items[0]!.detail).toMatch(/; removed \[orphan\], and the API server deleted it$/)
    expect(journal.calls).toEqual([`intent patch Job/${prefix}-stuck`, `outcome Job/${prefix}-stuck patched`])
    expect(d.progress.updates).toContain('unsticking 1/1')
    const patch = kube.requests.find((r) => r.method === 'PATCH')!
    expect(patch.body).toEqual([
      {op: 'test', path: '/metadata/finalizers', value: ['orphan']},
      {op: 'test', path: '/metadata/resourceVersion', value: stuck.metadata.resourceVersion},
      {op: 'replace', path: '/metadata/finalizers', value: []},
    ])
    expect(jobThere(`${prefix}-stuck`)).toBeUndefined()
  })

  it('changed since it was read: skipped changed-concurrently, nothing changed', async () => {
    job('stuck')
    kube.beforeRequest((r) => {
      if (r.method === 'PATCH') kube.updateObject('jobs', NS, `${prefix}-stuck`, (o) => void (o.metadata.labels = {touched: 'yes'}))
    })
    const {items} = await scanAndUnstick(config())
    expect(summary(items)).toEqual(['Job/stuck:skipped:changed-concurrently'])
    expect(jobThere(`${prefix}-stuck`)?.metadata.finalizers).toEqual(['orphan'])
  })

  it('gone before the patch: skipped already-gone', async () => {
    job('stuck', {ttl: 10})
    kube.beforeRequest((r) => {
      if (r.method === 'PATCH') kube.removeObject('jobs', NS, `${prefix}-stuck`)
    })
    const {items} = await scanAndUnstick(config())
    expect(summary(items)).toEqual(['Job/stuck:skipped:already-gone'])
  })

  it('--dry-run=server: dryRun=All, nothing changes, only the outcome journaled', async () => {
    job('stuck')
    const journal = recordingJournal()
    const {items} = await scanAndUnstick(config({serverDryRun: true}), {journal})
    expect(summary(items)).toEqual(['Job/stuck:none'])
    expect(items[0]!.detail).toMatch(/; server dry run: the API server would accept removing \[orphan\]$/)
    expect(journal.calls).toEqual([`outcome Job/${prefix}-stuck none`])
    expect(kube.requests.find((r) => r.method === 'PATCH')!.query.dryRun).toBe('All')
    expect(jobThere(`${prefix}-stuck`)?.metadata.finalizers).toEqual(['orphan'])
  })

  it('refused by RBAC: failed, and the rest of that namespace not sent', async () => {
    job('a')
    job('b')
    kube.deny({verb: 'patch', resource: 'jobs', group: 'batch', namespace: NS})
    const {items} = await scanAndUnstick(config({concurrency: 1}))
    expect(summary(items).sort()).toEqual(['Job/a:failed', 'Job/b:skipped:not-permitted'])
    expect(kube.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1)
  })

  // The patch may have applied but its answer was lost: the object is read back.
  it.each([
    {what: 'applied, then a 500: the Job gone ⇒ patched', finalizers: ['orphan'], injection: {status: 500, apply: true}, action: 'patched'},
    {what: 'applied, then a 500: a grace period keeps it Terminating ⇒ patched', finalizers: ['orphan'], grace: 30, injection: {status: 500, apply: true}, action: 'patched'},
    {what: 'a 500 that did not apply ⇒ failed, saying what it still holds', finalizers: ['orphan'], injection: {status: 500}, action: 'failed', error: /; it still holds orphan$/},
    {
      what: 'a reset before it applied ⇒ unknown, settled by a later run',
      finalizers: ['orphan'],
      injection: {status: 0, reset: true},
      action: 'unknown',
      error: /; its answer was lost; it may still apply \(it still holds orphan; a later run settles it\)$/,
    },
  ])('$what', async ({finalizers, grace, injection, action, error}) => {
    job('stuck', {finalizers, grace})
    const journal = recordingJournal()
    kube.inject({method: 'PATCH', ...injection, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'etcd timed out', reason: 'InternalError', code: 500}})
    const {items} = await scanAndUnstick(config(), {journal})
    expect(summary(items)).toEqual([`Job/stuck:${action}`])
    if (action === 'patched') expect(items[0]!.detail).toMatch(/ \(the patch got no clear answer: .*etcd timed out.*; read back afterwards\)$/)
    if (error) expect(items[0]!.error).toMatch(error)
    expect(journal.calls).toEqual([`intent patch Job/${prefix}-stuck`, `outcome Job/${prefix}-stuck ${action}`])
  })

  it.each([
    ['gone', 0, `removed [orphan, foregroundDeletion], and the API server deleted it (the patch got no clear answer: `],
    ['still Terminating in its grace period', 30, `removed [orphan, foregroundDeletion] (the patch got no clear answer: `],
  ])('a lost answer after the patch applied, the Job %s: said so', async (_what, grace, said) => {
    job('stuck', {finalizers: ['orphan', 'foregroundDeletion'], grace})
    kube.inject({method: 'PATCH', status: 500, apply: true, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'etcd timed out', reason: 'InternalError', code: 500}})
    const {items} = await scanAndUnstick(config())
    expect(items[0]!.action).toBe('patched')
    expect(items[0]!.detail).toContain(`; ${said}`)
  })

  it('a lost answer after the patch applied, another controller adding its finalizer meanwhile: still patched (ours are gone)', async () => {
    job('stuck')
    kube.inject({method: 'PATCH', status: 500, apply: true, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'x', reason: 'InternalError', code: 500}})
    kube.beforeRequest((r) => {
      if (r.method === 'PATCH') setImmediate(() => kube.getObject('jobs', NS, `${prefix}-stuck`) && kube.updateObject('jobs', NS, `${prefix}-stuck`, (o) => void (o.metadata.finalizers = ['example.com/late'])))
    })
    const {items} = await scanAndUnstick(config({concurrency: 1}))
    expect(items[0]!.action).toBe('patched')
  })

  it('a 500 that did not apply with two of ours on it: failed, naming both', async () => {
    job('stuck', {finalizers: ['orphan', 'foregroundDeletion']})
    kube.inject({method: 'PATCH', status: 500, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'x', reason: 'InternalError', code: 500}})
    const {items} = await scanAndUnstick(config())
    expect(items[0]!.action).toBe('failed')
    expect(items[0]!.error).toMatch(/; it still holds orphan, foregroundDeletion$/)
  })

  it('a reset before it applied with two of ours on it: unknown, naming both', async () => {
    job('stuck', {finalizers: ['orphan', 'foregroundDeletion']})
    kube.inject({method: 'PATCH', status: 0, reset: true})
    const {items} = await scanAndUnstick(config())
    expect(items[0]!.error).toMatch(/ \(it still holds orphan, foregroundDeletion; a later run settles it\)$/)
  })

  it('a lost answer whose read-back fails too: unknown, saying both', async () => {
    job('stuck')
    // After the scan (whose Job advice GETs the same path).
    const d = deps()
    const scan = await scanStuck(d, config())
    kube.inject({method: 'PATCH', status: 0, reset: true})
    kube.inject({method: 'GET', pathIncludes: `/jobs/${prefix}-stuck`, status: 500, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'read failed', reason: 'InternalError', code: 500}})
    await unstick(d, scan, config())
    const [item] = reportItems(scan)
    expect(item!.action).toBe('unknown')
    expect(item!.error).toMatch(/; the patch may have been applied, and reading the object back failed too \(.*read failed.*\)$/)
  })

  it('interrupted before any patch: each reported interrupted, dependents included', async () => {
    foregroundJobWithPod()
    const controller = new AbortController()
    const d = deps({signal: controller.signal})
    const cfg = config({deleteDependents: true})
    const scan = await scanStuck(d, cfg)
    controller.abort()
    await unstick(d, scan, cfg)
    expect(summary(reportItems(scan))).toEqual(['Job/fg:skipped:interrupted', 'Pod/fg-pod:skipped:interrupted'])
    expect(kube.requests.filter((r) => r.method === 'PATCH' || r.method === 'DELETE')).toEqual([])
  })

  it('interrupted while deleting the dependents: the patch is not started, only it reported interrupted', async () => {
    foregroundJobWithPod()
    const controller = new AbortController()
    const d = deps({signal: controller.signal})
    const cfg = config({deleteDependents: true})
    const scan = await scanStuck(d, cfg)
    kube.beforeRequest((r) => {
      if (r.method === 'DELETE') controller.abort()
    })
    await unstick(d, scan, cfg)
    expect(summary(reportItems(scan))).toEqual(['Job/fg:skipped:interrupted', 'Pod/fg-pod:deleted'])
    expect(kube.requests.filter((r) => r.method === 'PATCH')).toEqual([])
  })

  it('--delete-dependents: the foreground dependents deleted with Background propagation, a stuck dependent keeps its own line', async () => {
    const owner = job('fg', {finalizers: ['foregroundDeletion']})
    const ref = [{apiVersion: 'batch/v1', kind: 'Job', name: owner.metadata.name, uid: owner.metadata.uid, controller: true}]
    kube.addPod({namespace: NS, name: `${prefix}-fg-pod`, ownerReferences: ref})
    const journal = recordingJournal()
    const {items} = await scanAndUnstick(config({deleteDependents: true}), {journal})
    expect(summary(items)).toEqual(['Job/fg:patched', 'Pod/fg-pod:deleted'])
    expect(items[0]!.detail).toMatch(/--delete-dependents deletes them before removing the finalizer/)
    expect(journal.calls).toEqual([`intent delete Pod/${prefix}-fg-pod`, `outcome Pod/${prefix}-fg-pod deleted`, `intent patch Job/${prefix}-fg`, `outcome Job/${prefix}-fg patched`])
    expect(kube.requests.find((r) => r.method === 'DELETE')!.body).toMatchObject({propagationPolicy: 'Background'})
  })
})

describe('--wait: until the names are free', () => {
  it('a patched Job that the API server deleted: freed, said in the detail', async () => {
    job('stuck')
    const d = deps()
    const {scan} = await scanAndUnstick(config())
    const result = await waitUntilFreed(d, scan, 5, 2)
    expect(result).toEqual({freed: [`job/${NS}/${prefix}-stuck`], stillThere: [], failed: [], interrupted: false})
    expect(reportItems(scan)[0]!.detail).toMatch(/; gone: the name is free$/)
    expect(d.progress.updates).toContain('waiting for 1 objects to disappear')
  })

  it('one still held by another finalizer at the deadline: still there, the timeout named', async () => {
    job('kept', {grace: 30})
    const {scan} = await scanAndUnstick(config())
    const started = Date.now()
    const result = await waitUntilFreed(deps(), scan, 1, 2)
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(result).toEqual({freed: [], stillThere: [`job/${NS}/${prefix}-kept`], failed: [], interrupted: false})
    expect(reportItems(scan)[0]!.detail).toMatch(/; still there 1s after the patch \(--wait-timeout\)$/)
  })

  it('a wait that fails (a denied GET): failed, with the error', async () => {
    job('kept', {grace: 30})
    const {scan} = await scanAndUnstick(config())
    kube.deny({verb: 'get', resource: 'jobs', group: 'batch'})
    const result = await waitUntilFreed(deps(), scan, 5, 2)
    expect(result.failed).toEqual([expect.stringMatching(new RegExp(`^job/${NS}/${prefix}-kept: RBAC denied`))])
    expect(reportItems(scan)[0]!.detail).toMatch(/; could not wait for it: RBAC denied/)
  })

  it('interrupted while waiting: said so, not a failure', async () => {
    job('kept', {grace: 30})
    const {scan} = await scanAndUnstick(config())
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    const result = await waitUntilFreed(deps({signal: controller.signal}), scan, 30, 2)
    expect(result).toMatchObject({interrupted: true, failed: [], freed: [], stillThere: []})
    expect(reportItems(scan)[0]!.detail).toMatch(/; the wait for it was interrupted$/)
  })

  it('only patched objects are waited for', async () => {
    job('stuck')
    const {scan} = await scanAndUnstick(config({serverDryRun: true}))
    kube.requests.length = 0
    expect(await waitUntilFreed(deps(), scan, 5, 2)).toEqual({freed: [], stillThere: [], failed: [], interrupted: false})
    expect(kube.requests).toEqual([])
  })
})
