// Issue 4 end to end: the built CLI against the fake API server, which keeps a Job deleted with
// propagation Orphan Terminating for ever (no garbage collector), refuses a namesake with 409, and
// removes the Job once its last finalizer is gone (../shared/k8s-api-observed/README.md).
import type {ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import type {Report, ReportItem} from '../../src/core/report.js'
import {KubeClient} from '../../src/kube/client.js'
import {loadKubeTarget} from '../../src/kube/config.js'
import {type CliResult, runCli} from '../support/cli.js'
import {assertValidReport} from '../support/contract.js'
import {type FakeKube, type FakeObject, type RecordedRequest, startFakeKube} from '../support/fake-kube/index.js'

let kube: FakeKube
let client: KubeClient
let dir: string
let kubeconfig: string
let cache: string
let ns: string
let counter = 0

beforeAll(async () => {
  kube = await startFakeKube()
  dir = mkdtempSync(path.join(tmpdir(), 'airflow-reap-unstick-'))
  kubeconfig = kube.writeKubeconfig(path.join(dir, 'kubeconfig'))
  cache = path.join(dir, 'runs.sqlite')
  client = new KubeClient(loadKubeTarget({kubeconfig}), {retry: {maxAttempts: 1}})
})

afterAll(async () => {
  client?.close()
  await kube?.close()
  rmSync(dir, {recursive: true, force: true})
})

beforeEach(() => {
  ns = `unstick-${++counter}`
  kube.requests.length = 0
})

function unstick(args: string[], options: {onSpawn?: (child: ChildProcess) => void} = {}): Promise<CliResult> {
  const scope = args.includes('-A') ? [] : ['-n', ns]
  return runCli(['unstick', '--kubeconfig', kubeconfig, ...scope, ...args], {env: {AIRFLOW_REAP_CACHE: cache}, ...options})
}

function reportOf(result: CliResult): Report {
  const report = JSON.parse(result.stdout) as Report
  assertValidReport(report)
  expect(report.kind).toBe('UnstickReport')
  return report
}

function itemNamed(report: Report, kind: string, name: string): ReportItem {
  const item = report.items.find((i) => i.kind === kind && i.name === name)
  if (!item) throw new Error(`no ${kind} ${name} in ${JSON.stringify(report.items.map((i) => `${i.kind}/${i.name}`))}`)
  return item
}

const jobsPath = (namespace: string, name = '') => `/apis/batch/v1/namespaces/${namespace}/jobs${name ? `/${name}` : ''}`

function jobBody(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {name},
    spec: {template: {spec: {restartPolicy: 'Never', containers: [{name: 'main', image: 'busybox'}]}}, ...spec},
  }
}

/** A Job deleted `deletedMinutesAgo` ago and held by `finalizers` (seeded as if before the test). */
function stuckJob(name: string, finalizers: string[], deletedMinutesAgo = 60, spec: Record<string, unknown> = {}, namespace = ns): FakeObject {
  const body = jobBody(name, spec)
  return kube.addObject('jobs', {
    ...body,
    metadata: {
      name,
      namespace,
      finalizers,
      creationTimestamp: new Date(Date.now() - (deletedMinutesAgo + 30) * 60_000).toISOString().replace(/\.\d+Z$/, 'Z'),
      deletionTimestamp: new Date(Date.now() - deletedMinutesAgo * 60_000).toISOString().replace(/\.\d+Z$/, 'Z'),
      deletionGracePeriodSeconds: 0,
    },
  })
}

function ownedPod(name: string, owner: FakeObject): FakeObject {
  return kube.addPod({
    namespace: owner.metadata.namespace,
    name,
    ownerReferences: [{apiVersion: 'batch/v1', kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true}],
  })
}

/** Writes to the objects (the Events posted about them are tested in events.test.ts). */
function writes(kind?: string): RecordedRequest[] {
  return kube.requests.filter(
    (r) => ['PATCH', 'DELETE', 'POST', 'PUT'].includes(r.method) && !r.path.endsWith('/events') && (kind === undefined || r.path.includes(`/${kind}/`)),
  )
}

async function history(): Promise<Array<{command: string; dryRun: boolean; outcome: string; summary: Report['summary']; namespace: string; error?: string}>> {
  const result = await runCli(['history', '-o', 'json', '--limit', '500'], {env: {AIRFLOW_REAP_CACHE: cache}})
  expect(result.code, result.stderr).toBe(0)
  return (JSON.parse(result.stdout) as {items: never[]}).items
}

describe('a Job deleted with propagation Orphan and no garbage collector', () => {
  it('is reported in dry run with nothing changed; with --yes it disappears and a Job of the same name can be created', async () => {
    // The field's sequence: create, delete without propagationPolicy (batch/v1 default: Orphan), re-create → 409.
    await client.request({method: 'POST', path: jobsPath(ns), body: jobBody('export-job')})
    await client.request({method: 'DELETE', path: jobsPath(ns, 'export-job'), body: {kind: 'DeleteOptions', apiVersion: 'v1'}})
    expect(kube.getObject('jobs', ns, 'export-job')?.metadata.finalizers).toEqual(['orphan'])
    const refused = await client.request<{reason: string; message: string}>({method: 'POST', path: jobsPath(ns), body: jobBody('export-job'), allowStatus: [409]})
    expect(refused.status).toBe(409)
    expect(refused.body).toMatchObject({reason: 'AlreadyExists', message: 'object is being deleted: jobs.batch "export-job" already exists'})
    // ... and an hour later it is still there.
    const before = kube.updateObject('jobs', ns, 'export-job', (job) => {
      job.metadata.deletionTimestamp = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z')
    })
    kube.requests.length = 0

    const dry = await unstick(['-o', 'json'])
    expect(dry.code, dry.stderr).toBe(0)
    const dryReport = reportOf(dry)
    expect(dryReport).toMatchObject({dryRun: true, summary: {scanned: 1, found: 1, acted: 0, failed: 0, skipped: 0, unknown: 0}})
    expect(dryReport.runId).toEqual(expect.any(Number))
    const item = itemNamed(dryReport, 'Job', 'export-job')
    expect(item).toMatchObject({namespace: ns, uid: before.metadata.uid, reason: 'stuck-terminating', action: 'none'})
    expect(item.detail).toMatch(/^terminating for (59m|60m|1h) with finalizers \[orphan\]; the garbage collector has not removed orphan/)
    expect(item.detail).toContain('no ttlSecondsAfterFinished')
    expect(item.detail).toContain('the name "export-job" looks fixed')
    expect(item.detail).toContain('propagationPolicy Background')
    expect(writes()).toEqual([])
    expect(kube.getObject('jobs', ns, 'export-job')).toEqual(before)

    // Table mode: the result on stdout, the advice on stderr.
    const table = await unstick([])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/^NAME\s+AGE\s+PHASE\s+REASON\s+ACTION\n/)
    expect(table.stdout).toMatch(/\njob\.batch\/export-job\s+\S+\s+<none>\s+stuck-terminating\s+none/)
    expect(table.stdout).toContain('1 stuck object found among 1 scanned; dry run: nothing changed (add --yes to remove their finalizers)')
    expect(table.stdout).not.toContain('advice:')
    // One advice line per object still stuck, its advisories joined.
    const advice = table.stderr.split('\n').filter((l) => l.startsWith('advice:'))
    expect(advice).toHaveLength(1)
    expect(advice[0]).toContain(`advice: job/${ns}/export-job: no ttlSecondsAfterFinished`)
    expect(advice[0]).toContain('; the name "export-job" looks fixed')
    expect(writes()).toEqual([])

    const real = await unstick(['--yes', '-o', 'json'])
    expect(real.code, real.stderr).toBe(0)
    const realReport = reportOf(real)
    expect(realReport).toMatchObject({dryRun: false, summary: {found: 1, acted: 1, failed: 0, skipped: 0}})
    expect(itemNamed(realReport, 'Job', 'export-job')).toMatchObject({action: 'patched', detail: expect.stringContaining('removed [orphan], and the API server deleted it')})
    expect(kube.getObject('jobs', ns, 'export-job')).toBeUndefined()

    // One write: the guarded JSON patch, testing the exact list and resourceVersion read.
    const [patch] = writes()
    expect(writes()).toHaveLength(1)
    expect(patch).toMatchObject({method: 'PATCH', path: jobsPath(ns, 'export-job'), contentType: 'application/json-patch+json', status: 200})
    expect(patch.body).toEqual([
      {op: 'test', path: '/metadata/finalizers', value: ['orphan']},
      {op: 'test', path: '/metadata/resourceVersion', value: before.metadata.resourceVersion},
      {op: 'replace', path: '/metadata/finalizers', value: []},
    ])

    const recreated = await client.request({method: 'POST', path: jobsPath(ns), body: jobBody('export-job')})
    expect(recreated.status).toBe(201)

    const runs = (await history()).filter((r) => r.namespace === ns)
    expect(runs.map((r) => [r.command, r.dryRun, r.outcome])).toEqual([
      ['unstick', false, 'ok'],
      ['unstick', true, 'ok'],
      ['unstick', true, 'ok'],
    ])
    expect(runs[0].summary).toMatchObject({found: 1, acted: 1})
  })

  it('-o name lists it for piping, and --exit-code exits 3 while it is left in place', async () => {
    stuckJob('nightly-load', ['orphan'])
    const result = await unstick(['-o', 'name', '--exit-code'])
    expect(result).toMatchObject({code: 3, stdout: 'job.batch/nightly-load\n'})
    const fixed = await unstick(['-o', 'name', '--exit-code', '--yes'])
    expect(fixed).toMatchObject({code: 0, stdout: 'job.batch/nightly-load\n'})
    expect(kube.getObject('jobs', ns, 'nightly-load')).toBeUndefined()
  })

  it('--dry-run=server sends the patch with dryRun=All and changes nothing', async () => {
    const before = stuckJob('server-dry', ['orphan'])
    const result = await unstick(['--dry-run=server', '-o', 'json'])
    expect(result.code, result.stderr).toBe(0)
    const report = reportOf(result)
    expect(report.dryRun).toBe(true)
    expect(itemNamed(report, 'Job', 'server-dry')).toMatchObject({action: 'none', detail: expect.stringContaining('server dry run: the API server would accept removing [orphan]')})
    expect(writes().map((r) => [r.method, r.query.dryRun, r.status])).toEqual([['PATCH', 'All', 200]])
    expect(kube.getObject('jobs', ns, 'server-dry')).toEqual(before)
  })

  it('pods are scanned too, and -l narrows the scan', async () => {
    kube.addPod({namespace: ns, name: 'stuck-pod', labels: {team: 'a'}, finalizers: ['orphan'], deletionTimestamp: new Date(Date.now() - 3_600_000)})
    kube.addPod({namespace: ns, name: 'other-team', labels: {team: 'b'}, finalizers: ['orphan'], deletionTimestamp: new Date(Date.now() - 3_600_000)})
    kube.addPod({namespace: ns, name: 'healthy', labels: {team: 'a'}})
    const report = reportOf(await unstick(['-l', 'team=a', '-o', 'json']))
    expect(report.summary.scanned).toBe(2)
    expect(report.items.map((i) => `${i.kind}/${i.name}`)).toEqual(['Pod/stuck-pod'])

    const wide = await unstick(['-l', 'team=a', '-o', 'wide'])
    expect(wide.code, wide.stderr).toBe(0)
    expect(wide.stdout).toMatch(/pod\/stuck-pod .*stuck-terminating\s+none .*terminating for \S+ with finalizers \[orphan\]/)
    const yaml = await unstick(['-l', 'team=a', '-o', 'yaml'])
    expect(yaml.stdout).toMatch(/^kind: UnstickReport$/m)
  })
})

describe('what is left alone', () => {
  it('a Job with a foreign finalizer is untouched and the finalizer named; --finalizer NAME removes it', async () => {
    const before = stuckJob('protected', ['orphan', 'example.com/protect'])
    const result = await unstick(['--yes', '-o', 'json'])
    expect(result.code, result.stderr).toBe(0)
    const item = itemNamed(reportOf(result), 'Job', 'protected')
    expect(item).toMatchObject({action: 'skipped', skipReason: 'foreign-finalizer'})
    expect(item.detail).toContain('example.com/protect belongs to another controller')
    expect(writes()).toEqual([])
    expect(kube.getObject('jobs', ns, 'protected')).toEqual(before)

    const named = reportOf(await unstick(['--yes', '--finalizer', 'example.com/protect', 'jobs/protected', '-o', 'json']))
    expect(itemNamed(named, 'Job', 'protected')).toMatchObject({action: 'patched'})
    expect(kube.getObject('jobs', ns, 'protected')).toBeUndefined()
  })

  it('a Job deleted less than --older-than ago is untouched', async () => {
    const before = stuckJob('just-deleted', ['orphan'], 2)
    const result = await unstick(['--yes', '-o', 'json'])
    expect(result.code, result.stderr).toBe(0)
    expect(itemNamed(reportOf(result), 'Job', 'just-deleted')).toMatchObject({action: 'skipped', skipReason: 'too-young'})
    expect(writes()).toEqual([])
    expect(kube.getObject('jobs', ns, 'just-deleted')).toEqual(before)

    const sooner = reportOf(await unstick(['--yes', '--older-than', '1m', '-o', 'json']))
    expect(itemNamed(sooner, 'Job', 'just-deleted')).toMatchObject({action: 'patched'})
    expect(kube.getObject('jobs', ns, 'just-deleted')).toBeUndefined()
  })

  it('a concurrent finalizer change between read and patch makes the patch fail safely', async () => {
    stuckJob('racing', ['orphan', 'example.com/cleanup'])
    // The cleanup controller finishes just as our patch is on its way.
    const remove = kube.beforeRequest((request) => {
      if (request.method === 'PATCH' && request.path === jobsPath(ns, 'racing')) {
        kube.updateObject('jobs', ns, 'racing', (job) => {
          job.metadata.finalizers = ['orphan']
        })
      }
    })
    try {
      const result = await unstick(['--yes', '--finalizer', 'example.com/cleanup', '--exit-code', '-o', 'json'])
      // Skipped, and a skipped item never makes --exit-code exit 3 (the contract): judged afresh on the next run.
      expect(result.code, result.stderr).toBe(0)
      const item = itemNamed(reportOf(result), 'Job', 'racing')
      expect(item).toMatchObject({action: 'skipped', skipReason: 'changed-concurrently'})
      expect(item.detail).toContain('nothing was changed')
    } finally {
      remove()
    }
    const patches = writes()
    expect(patches.map((r) => [r.method, r.status])).toEqual([['PATCH', 422]])
    expect(patches[0].body).toContainEqual({op: 'test', path: '/metadata/finalizers', value: ['orphan', 'example.com/cleanup']})
    // The controller's change stands: the Job is still there with the list it left.
    expect(kube.getObject('jobs', ns, 'racing')?.metadata.finalizers).toEqual(['orphan'])

    // Judged afresh, it is freed.
    expect(itemNamed(reportOf(await unstick(['--yes', '-o', 'json'])), 'Job', 'racing')).toMatchObject({action: 'patched'})
  })
})

describe('dependents', () => {
  it('of an orphan deletion are listed and stay', async () => {
    const job = stuckJob('with-pods', ['orphan'], 60, {ttlSecondsAfterFinished: 600})
    ownedPod('with-pods-abcde', job)
    ownedPod('with-pods-fghij', job)
    kube.addPod({namespace: ns, name: 'unrelated'})

    const dry = await unstick(['jobs'])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stderr).toMatch(new RegExp(`^advice: job/${ns}/with-pods: .*dependents pod/with-pods-abcde, pod/with-pods-fghij stay, as the orphan propagation asked`, 'm'))
    expect(dry.stderr).not.toContain('ttlSecondsAfterFinished')
    const table = await unstick(['jobs', '--yes'])
    expect(table.code, table.stderr).toBe(0)
    // Freed: no advice about an object that is no longer stuck.
    expect(table.stderr).not.toContain('advice:')
    expect(kube.getObject('jobs', ns, 'with-pods')).toBeUndefined()
    expect(kube.listObjects('pods', ns).map((p) => p.metadata.name)).toEqual(['unrelated', 'with-pods-abcde', 'with-pods-fghij'])
    expect(writes('pods')).toEqual([])
  })

  it('of a foreground deletion: named, and deleted with UID preconditions by --delete-dependents', async () => {
    const job = stuckJob('fg-job', ['foregroundDeletion'])
    const a = ownedPod('fg-job-aaaaa', job)
    const b = ownedPod('fg-job-bbbbb', job)

    const plain = reportOf(await unstick(['jobs/fg-job', '-o', 'json']))
    expect(plain.items).toHaveLength(1)
    expect(itemNamed(plain, 'Job', 'fg-job').detail).toContain(
      'dependents pod/fg-job-aaaaa, pod/fg-job-bbbbb would have been deleted by the garbage collector first; removing the finalizer leaves them in place (--delete-dependents deletes them)',
    )

    const dry = reportOf(await unstick(['jobs/fg-job', '--delete-dependents', '-o', 'json']))
    expect(dry.items.map((i) => [i.kind, i.name, i.action])).toEqual([
      ['Job', 'fg-job', 'none'],
      ['Pod', 'fg-job-aaaaa', 'none'],
      ['Pod', 'fg-job-bbbbb', 'none'],
    ])
    expect(itemNamed(dry, 'Pod', 'fg-job-aaaaa')).toMatchObject({uid: a.metadata.uid, detail: expect.stringMatching(/^dependent of job\/fg-job/)})
    expect(writes()).toEqual([])

    const real = await unstick(['jobs/fg-job', '--delete-dependents', '--yes', '-o', 'json'])
    expect(real.code, real.stderr).toBe(0)
    const report = reportOf(real)
    expect(report.items.map((i) => [i.kind, i.name, i.action])).toEqual([
      ['Job', 'fg-job', 'patched'],
      ['Pod', 'fg-job-aaaaa', 'deleted'],
      ['Pod', 'fg-job-bbbbb', 'deleted'],
    ])
    expect(report.summary).toMatchObject({found: 3, acted: 3, failed: 0})
    expect(kube.getObject('jobs', ns, 'fg-job')).toBeUndefined()
    expect(kube.listObjects('pods', ns)).toEqual([])
    // Dependents first, as the garbage collector would have; each DELETE names the UID it means.
    const log = writes()
    expect(log.map((r) => `${r.method} ${r.path.split('/').slice(-2).join('/')}`)).toEqual([
      'DELETE pods/fg-job-aaaaa',
      'DELETE pods/fg-job-bbbbb',
      'PATCH jobs/fg-job',
    ])
    expect(log[0].body).toMatchObject({preconditions: {uid: a.metadata.uid}, propagationPolicy: 'Background'})
    expect(log[1].body).toMatchObject({preconditions: {uid: b.metadata.uid}})
  })

  it('a dependent replaced under the same name since it was listed is left alone', async () => {
    const job = stuckJob('fg-race', ['foregroundDeletion'])
    ownedPod('fg-race-worker', job)
    let replacement: FakeObject | undefined
    const remove = kube.beforeRequest((request) => {
      if (request.method === 'DELETE' && request.path.endsWith('/pods/fg-race-worker') && !replacement) {
        kube.removeObject('pods', ns, 'fg-race-worker')
        replacement = kube.addPod({namespace: ns, name: 'fg-race-worker'})
      }
    })
    try {
      const report = reportOf(await unstick(['jobs/fg-race', '--delete-dependents', '--yes', '-o', 'json']))
      expect(itemNamed(report, 'Pod', 'fg-race-worker')).toMatchObject({action: 'skipped', skipReason: 'replaced'})
    } finally {
      remove()
    }
    expect(kube.getObject('pods', ns, 'fg-race-worker')?.metadata.uid).toBe(replacement?.metadata.uid)
    expect(writes('pods').map((r) => r.status)).toEqual([409])
  })

  it('a CronJob\'s dependent Jobs are deleted with propagation Background, so they do not stick in turn', async () => {
    const cron = kube.addObject('cronjobs', {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: {name: 'nightly', namespace: ns, finalizers: ['foregroundDeletion'], deletionTimestamp: new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z')},
      spec: {schedule: '0 3 * * *', jobTemplate: {spec: {}}},
    })
    kube.addObject('jobs', {
      ...jobBody('nightly-29000000'),
      metadata: {name: 'nightly-29000000', namespace: ns, ownerReferences: [{apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly', uid: cron.metadata.uid, controller: true}]},
    })
    const result = await unstick(['cronjobs/nightly', '--delete-dependents', '--yes', '-o', 'json'])
    expect(result.code, result.stderr).toBe(0)
    expect(reportOf(result).items.map((i) => [i.kind, i.name, i.action])).toEqual([
      ['CronJob', 'nightly', 'patched'],
      ['Job', 'nightly-29000000', 'deleted'],
    ])
    expect(writes('jobs')[0].body).toMatchObject({propagationPolicy: 'Background'})
    expect(kube.getObject('jobs', ns, 'nightly-29000000')).toBeUndefined()
    expect(kube.getObject('cronjobs', ns, 'nightly')).toBeUndefined()
  })
})

describe('RBAC', () => {
  it('a 403 on patch fails that object with a clear error naming patch on jobs.batch, reports the rest, and exits 1', async () => {
    kube.deny({verb: 'patch', resource: 'jobs', group: 'batch', namespace: ns})
    stuckJob('denied', ['orphan'])
    kube.addPod({namespace: ns, name: 'stuck-pod', finalizers: ['orphan'], deletionTimestamp: new Date(Date.now() - 3_600_000)})

    const result = await unstick(['--yes', '-o', 'json'])
    expect(result.code, result.stderr).toBe(1)
    expect(result.stderr).toMatch(new RegExp(`^error: could not unstick job/${ns}/denied: RBAC denied: cannot patch jobs\\.batch in namespace "${ns}" \\(user "[^"]+"\\)$`, 'm'))
    const report = reportOf(result)
    expect(itemNamed(report, 'Job', 'denied')).toMatchObject({action: 'failed', error: expect.stringContaining('cannot patch jobs.batch')})
    expect(itemNamed(report, 'Pod', 'stuck-pod')).toMatchObject({action: 'patched'})
    expect(report.summary).toMatchObject({acted: 1, failed: 1})
    expect(kube.getObject('jobs', ns, 'denied')?.metadata.finalizers).toEqual(['orphan'])

    const [run] = (await history()).filter((r) => r.namespace === ns)
    expect(run).toMatchObject({command: 'unstick', outcome: 'failed', error: expect.stringContaining('cannot patch jobs.batch')})
  })

  it('after the first 403 on patching jobs in a namespace, sends no more job patches there: not-permitted, the permission named, exit 1', async () => {
    kube.deny({verb: 'patch', resource: 'jobs', group: 'batch', namespace: ns})
    for (const name of ['denied-a', 'denied-b', 'denied-c']) stuckJob(name, ['orphan'])
    kube.addPod({namespace: ns, name: 'stuck-pod', finalizers: ['orphan'], deletionTimestamp: new Date(Date.now() - 3_600_000)})

    const result = await unstick(['--yes', '-o', 'json'])
    expect(result.code, result.stderr).toBe(1)
    expect(kube.requests.filter((r) => r.method === 'PATCH' && r.path.includes('/jobs/'))).toHaveLength(1)
    const report = reportOf(result)
    const jobs = report.items.filter((i) => i.kind === 'Job')
    expect(jobs.filter((i) => i.action === 'failed')).toHaveLength(1)
    const notSent = jobs.filter((i) => i.action === 'skipped')
    expect(notSent).toHaveLength(2)
    for (const item of notSent) {
      expect(item).toMatchObject({skipReason: 'not-permitted', detail: expect.stringContaining(`not sent: RBAC denied: cannot patch jobs.batch in namespace "${ns}"`)})
    }
    // Another kind in the namespace has its own permission: still sent.
    expect(itemNamed(report, 'Pod', 'stuck-pod')).toMatchObject({action: 'patched'})
    expect(result.stderr).toMatch(/^error: could not unstick job\/.*cannot patch jobs\.batch.*; 2 more not sent: grant that permission and run again$/m)
  })

  it('a 403 on list is one error line and exit 1', async () => {
    kube.deny({verb: 'list', resource: 'pods', namespace: ns})
    const result = await unstick([])
    expect(result.code, result.stderr).toBe(1)
    expect(result.stderr).toMatch(/^error: RBAC denied: cannot list pods in namespace/m)
    expect(result.stdout).toBe('')
  })
})

describe('--wait', () => {
  it('waits until GET answers 404 and says that the name is free', async () => {
    stuckJob('waited', ['orphan'])
    const table = await unstick(['jobs/waited', '--yes', '--wait'])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stderr).toContain(`job/${ns}/waited: name is free`)
    const get = kube.requests.filter((r) => r.method === 'GET' && r.path === jobsPath(ns, 'waited'))
    expect(get.at(-1)?.status).toBe(404)

    stuckJob('waited-json', ['orphan'])
    const json = reportOf(await unstick(['jobs/waited-json', '--yes', '--wait=30s', '-o', 'json']))
    expect(itemNamed(json, 'Job', 'waited-json').detail).toContain('gone: the name is free')
  })

  it('an object still there at the deadline fails the run', async () => {
    const job = stuckJob('lingering', ['orphan'])
    // The API server keeps answering with the Job (as a slow cache might) after the patch removed it.
    kube.inject({method: 'GET', match: (r) => r.path === jobsPath(ns, 'lingering') && kube.requests.some((p) => p.method === 'PATCH'), status: 200, body: job, times: 100})
    const result = await unstick(['jobs/lingering', '--yes', '--wait', '--wait-timeout', '2s'])
    expect(result.code, result.stderr).toBe(1)
    expect(result.stderr).toMatch(new RegExp(`^error: timed out after 2s waiting for job/${ns}/lingering to disappear$`, 'm'))
    expect(result.stdout).toMatch(/job\.batch\/lingering\s+\S+\s+<none>\s+stuck-terminating\s+patched/)
  })

  it('Ctrl-C during the wait stops it, prints the report and records the run as interrupted', async () => {
    const job = stuckJob('interrupted', ['orphan'])
    let child: ChildProcess | undefined
    kube.inject({method: 'GET', match: (r) => r.path === jobsPath(ns, 'interrupted') && kube.requests.some((p) => p.method === 'PATCH'), status: 200, body: job, times: 100})
    const remove = kube.beforeRequest((request) => {
      const waiting = request.method === 'GET' && request.path === jobsPath(ns, 'interrupted') && kube.requests.some((p) => p.method === 'PATCH')
      if (waiting) child?.kill('SIGINT')
    })
    try {
      const result = await unstick(['jobs/interrupted', '--yes', '--wait', '--wait-timeout', '60s', '-o', 'json'], {onSpawn: (c) => (child = c)})
      expect(result.code, result.stderr).toBe(130)
      expect(result.stderr).toMatch(/^error: interrupted/m)
      expect(itemNamed(reportOf(result), 'Job', 'interrupted')).toMatchObject({action: 'patched', detail: expect.stringContaining('the wait for it was interrupted')})
    } finally {
      remove()
    }
    const [run] = (await history()).filter((r) => r.namespace === ns)
    expect(run).toMatchObject({command: 'unstick', outcome: 'interrupted'})
  })
})

describe('interrupted while scanning', () => {
  it('records how many objects it listed before the interrupt (SCANNED was 0)', async () => {
    for (const name of ['listed-a', 'listed-b']) stuckJob(name, ['orphan'])
    kube.addObject('jobs', {...jobBody('listed-alive'), metadata: {name: 'listed-alive', namespace: ns}})
    let child: ChildProcess | undefined
    // The jobs are listed; the next list (pods) is where Ctrl-C comes.
    const remove = kube.beforeRequest((request) => {
      if (request.method === 'GET' && request.path.startsWith(`/api/v1/namespaces/${ns}/pods`)) child?.kill('SIGINT')
    })
    try {
      const result = await unstick(['-o', 'json'], {onSpawn: (c) => (child = c)})
      expect(result.code, result.stderr).toBe(130)
      expect(reportOf(result).summary.scanned).toBe(3)
    } finally {
      remove()
    }
    const [run] = (await history()).filter((r) => r.namespace === ns)
    expect(run).toMatchObject({command: 'unstick', outcome: 'interrupted', summary: {scanned: 3}})
  })
})

describe('named objects and arguments', () => {
  it('a named object that does not exist or is not stuck is reported, not a crash', async () => {
    kube.addObject('jobs', {...jobBody('alive'), metadata: {name: 'alive', namespace: ns}})
    const result = await unstick(['jobs/missing', 'jobs/alive', 'deployments/web', '-o', 'json'])
    expect(result.code, result.stderr).toBe(0)
    const report = reportOf(result)
    expect(report.items).toEqual([])
    expect(report.summary.scanned).toBe(1)
    expect(report.warnings).toEqual([
      `job/${ns}/missing: not found; the name is free`,
      `deployment/${ns}/web: not found; the name is free`,
      `job/${ns}/alive: not being deleted; nothing to do`,
    ])
    expect(result.stderr).toContain(`warning: job/${ns}/missing: not found; the name is free`)
  })

  it.each([
    [['services/x'], /^error: unknown resource type "services"/m],
    [['jobs/a', '-A'], /across all namespaces/],
    [['--wait'], /--wait waits for the objects --yes frees/],
    [['--wait=soon', '--yes'], /^error: invalid argument "soon" for "--wait" flag: not a duration/m],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const result = await unstick(args)
    expect(result.code, result.stderr).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(kube.requests).toEqual([])
  })
})
