// Issue 18 §2, seed problem 3 for real: Jobs deleted with propagation Orphan or Foreground while
// kube-controller-manager (the garbage collector) is stopped stay Terminating on a real
// kube-apiserver; `unstick` frees them with its guarded JSON patch and the name can be used again
// (201); a foreign finalizer and a young deletion are left alone. Also the raw answers the fake
// reproduces (../shared/k8s-api-observed/README.md), pinned here against the real server, and
// issue 23 item 5: the last finalizer of a pod deleted with a grace period, removed by JSON patch.
// No kubelet: pods stay Pending; port-forward stays tested on the fake.
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import type {Report, ReportItem} from '../../src/core/report.js'
import {type CliWorkspace, cliWorkspace, runCli} from '../support/cli.js'
import {assertValidReport} from '../support/contract.js'
import {type RealKube, createAll, realKubeMissing, startRealKube} from '../support/real-kube.js'

// The built CLI against a real API server on a shared 2-core machine: one run can take 10-20 s.
vi.setConfig({testTimeout: 120_000, hookTimeout: 240_000})

const NS = 'jobs'
const JOBS = `/apis/batch/v1/namespaces/${NS}/jobs`
const PODS = `/api/v1/namespaces/${NS}/pods`

function jobBody(name: string): object {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {name},
    spec: {template: {spec: {restartPolicy: 'Never', containers: [{name: 'main', image: 'busybox'}]}}},
  }
}

const deleteOptions = (propagationPolicy?: string) => ({kind: 'DeleteOptions', apiVersion: 'v1', ...(propagationPolicy ? {propagationPolicy} : {})})

describe.skipIf(realKubeMissing)(`unstick on a real API server${realKubeMissing ? ` (skipped: ${realKubeMissing})` : ''}`, () => {
  let kube: RealKube
  let workspace: CliWorkspace

  beforeAll(async () => {
    kube = await startRealKube()
    workspace = cliWorkspace(kube, {prefix: 'real-unstick', namespace: NS})
    await createAll(kube, '/api/v1/namespaces', [{apiVersion: 'v1', kind: 'Namespace', metadata: {name: NS}}], 1)
  }, 180_000)

  afterAll(async () => {
    await kube?.stop()
    workspace?.remove()
  })

  async function unstick(args: string[]): Promise<Report> {
    const result = await runCli(['unstick', '-n', NS, '-o', 'json', ...args], {env: workspace.env})
    expect(result.code, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout) as Report
    assertValidReport(report)
    return report
  }

  const item = (report: Report, name: string): ReportItem | undefined => report.items.find((i) => i.kind === 'Job' && i.name === name)
  const getJob = (name: string) => kube.request('GET', `${JOBS}/${name}`)

  async function waitGone(apiPath: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if ((await kube.request('GET', apiPath)).status === 404) return true
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    return false
  }

  it('with the garbage collector running, an Orphan deletion completes by itself (the control plane is real)', async () => {
    await createAll(kube, JOBS, [jobBody('collected')], 1)
    expect((await kube.request('DELETE', `${JOBS}/collected`, deleteOptions('Orphan'))).status).toBe(200)
    expect(await waitGone(`${JOBS}/collected`, 60_000)).toBe(true)
  })

  describe('with kube-controller-manager stopped', () => {
    beforeAll(async () => {
      await kube.stopControllerManager()
    })

    it('a batch/v1 Job deleted without propagationPolicy gets the orphan finalizer, and its name answers 409 AlreadyExists', async () => {
      await createAll(kube, JOBS, [jobBody('legacy')], 1)
      const deleted = await kube.request('DELETE', `${JOBS}/legacy`, deleteOptions())
      expect(deleted.status).toBe(200)
      expect(deleted.body).toMatchObject({kind: 'Job', metadata: {finalizers: ['orphan'], deletionTimestamp: expect.any(String)}})
      const again = await kube.request('POST', JOBS, jobBody('legacy'))
      expect(again.status).toBe(409)
      expect(again.body).toMatchObject({kind: 'Status', reason: 'AlreadyExists', message: 'object is being deleted: jobs.batch "legacy" already exists'})
    })

    it('Orphan and Foreground deletions stay Terminating; unstick leaves young ones, then frees them, and the names are free again (201)', async () => {
      await createAll(kube, JOBS, [jobBody('orphaned'), jobBody('foreground'), jobBody('protected')], 1)
      expect((await kube.request('DELETE', `${JOBS}/orphaned`, deleteOptions('Orphan'))).body.metadata.finalizers).toEqual(['orphan'])
      expect((await kube.request('DELETE', `${JOBS}/foreground`, deleteOptions('Foreground'))).body.metadata.finalizers).toEqual(['foregroundDeletion'])
      const protectedJob = (await getJob('protected')).body
      const patched = await kube.request('PATCH', `${JOBS}/protected`, {metadata: {finalizers: ['example.com/protect']}}, {contentType: 'application/merge-patch+json'})
      expect(patched.status).toBe(200)
      expect((await kube.request('DELETE', `${JOBS}/protected`, deleteOptions('Orphan'))).body.metadata.finalizers).toEqual(['example.com/protect', 'orphan'])
      const protectedBefore = (await getJob('protected')).body

      // Just deleted: younger than --older-than (default 5m), nothing is touched.
      const young = await unstick(['--yes'])
      for (const name of ['orphaned', 'foreground']) expect(item(young, name), name).toMatchObject({action: 'skipped', skipReason: 'too-young'})
      expect((await getJob('orphaned')).status).toBe(200)

      await new Promise((resolve) => setTimeout(resolve, 1_100))
      const report = await unstick(['--yes', '--older-than', '1s'])
      expect(item(report, 'orphaned')).toMatchObject({action: 'patched', detail: expect.stringContaining('removed [orphan]')})
      expect(item(report, 'foreground')).toMatchObject({action: 'patched', detail: expect.stringContaining('removed [foregroundDeletion]')})
      expect(item(report, 'protected')).toMatchObject({action: 'skipped', skipReason: 'foreign-finalizer'})
      expect(report.summary.failed).toBe(0)
      for (const name of ['orphaned', 'foreground']) {
        expect((await getJob(name)).status, name).toBe(404)
        expect((await kube.request('POST', JOBS, jobBody(name))).status, name).toBe(201)
      }
      // The foreign finalizer's Job is as it was, to the resourceVersion.
      expect((await getJob('protected')).body.metadata).toEqual(protectedBefore.metadata)
      expect(protectedJob.metadata.uid).toBe(protectedBefore.metadata.uid)
      // Each finalizer patch posted an Event the real events.k8s.io/v1 validation accepted.
      const events = JSON.parse(kube.kubectl(['get', 'events.events.k8s.io', '-n', NS, '--field-selector', 'reason=FinalizerRemoved', '-o', 'json']))
      const regarding: string[] = events.items.map((e: {regarding: {name: string; kind: string}}) => `${e.regarding.kind}/${e.regarding.name}`)
      expect(regarding).toEqual(expect.arrayContaining(['Job/foreground', 'Job/orphaned']))
      expect(regarding).not.toContain('Job/protected')
    })

    it('--dry-run=server: the real server accepts the patch and nothing changes', async () => {
      await createAll(kube, JOBS, [jobBody('dry')], 1)
      await kube.request('DELETE', `${JOBS}/dry`, deleteOptions('Orphan'))
      const before = (await getJob('dry')).body
      await new Promise((resolve) => setTimeout(resolve, 1_100))
      const report = await unstick(['--yes', '--dry-run=server', '--older-than', '1s', 'jobs/dry'])
      expect(item(report, 'dry')).toMatchObject({action: 'none', detail: expect.stringContaining('server dry run')})
      expect((await getJob('dry')).body).toEqual(before)
    })
  })

  describe('raw answers of the real server', () => {
    it('a failing JSON-patch test op is 422 Invalid and changes nothing', async () => {
      await createAll(kube, JOBS, [jobBody('guarded')], 1)
      const before = (await getJob('guarded')).body
      const answer = await kube.request('PATCH', `${JOBS}/guarded`, [{op: 'test', path: '/metadata/finalizers', value: ['orphan']}, {op: 'replace', path: '/metadata/finalizers', value: []}], {
        contentType: 'application/json-patch+json',
      })
      expect(answer.status).toBe(422)
      expect(answer.body).toMatchObject({kind: 'Status', reason: 'Invalid'})
      expect((await getJob('guarded')).body.metadata.resourceVersion).toBe(before.metadata.resourceVersion)
    })

    it('a DELETE whose UID precondition does not match is 409 Conflict and the object stays', async () => {
      const [job] = await createAll(kube, JOBS, [jobBody('precondition')], 1)
      const wrong = '00000000-0000-0000-0000-000000000000'
      const answer = await kube.request('DELETE', `${JOBS}/precondition`, {...deleteOptions('Background'), preconditions: {uid: wrong}})
      expect(answer.status).toBe(409)
      // The resource is named by its Kind here (k8s.io/apiserver registry/rest/delete.go), not its plural.
      expect(answer.body).toMatchObject({
        kind: 'Status',
        reason: 'Conflict',
        details: {name: 'precondition', group: 'batch', kind: 'Job'},
        message: `Operation cannot be fulfilled on Job.batch "precondition": the UID in the precondition (${wrong}) does not match the UID in record (${job.metadata.uid}). The object might have been deleted and then recreated`,
      })
      expect((await getJob('precondition')).status).toBe(200)
    })

    it('a pod deleted at once (unscheduled, or grace 0) is answered with deletionTimestamp and grace 0, though it is gone', async () => {
      // Pod deletion is always graceful to kube-apiserver: the answer is marked for deletion even when
      // the pod is removed at once. The fake answers the same (test/integration/kube-fake.test.ts), and
      // deleteGuarded reads it as deleted (no finalizer, grace 0).
      await createAll(kube, PODS, [{apiVersion: 'v1', kind: 'Pod', metadata: {name: 'at-once'}, spec: {containers: [{name: 'main', image: 'busybox'}]}}], 1)
      const deleted = await kube.request('DELETE', `${PODS}/at-once`, deleteOptions())
      expect(deleted.status).toBe(200)
      expect(deleted.body).toMatchObject({kind: 'Pod', metadata: {deletionTimestamp: expect.any(String), deletionGracePeriodSeconds: 0}})
      expect((await kube.request('GET', `${PODS}/at-once`)).status).toBe(404)
    })

    it('issue 23 item 5: removing the last finalizer of a pod deleted with a grace period answers the object, and the pod stays Terminating for the kubelet', async () => {
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {name: 'graceful', finalizers: ['example.com/hold']},
        // Bound to a node (no kubelet runs it): its deletion is graceful, as for a running pod.
        spec: {nodeName: 'node-without-kubelet', terminationGracePeriodSeconds: 30, containers: [{name: 'main', image: 'busybox'}]},
      }
      await createAll(kube, PODS, [pod], 1)
      const deleted = await kube.request('DELETE', `${PODS}/graceful`, deleteOptions())
      expect(deleted.status).toBe(200)
      expect(deleted.body.metadata).toMatchObject({deletionTimestamp: expect.any(String), deletionGracePeriodSeconds: 30, finalizers: ['example.com/hold']})
      const removed = await kube.request(
        'PATCH',
        `${PODS}/graceful`,
        [
          {op: 'test', path: '/metadata/finalizers', value: ['example.com/hold']},
          {op: 'test', path: '/metadata/resourceVersion', value: deleted.body.metadata.resourceVersion},
          {op: 'replace', path: '/metadata/finalizers', value: []},
        ],
        {contentType: 'application/json-patch+json'},
      )
      expect(removed.status).toBe(200)
      // The answer is the Pod itself, not a Status: no finalizers, still carrying its deletionTimestamp.
      expect(removed.body).toMatchObject({kind: 'Pod', metadata: {name: 'graceful', deletionTimestamp: deleted.body.metadata.deletionTimestamp, deletionGracePeriodSeconds: 30}})
      expect(removed.body.metadata.finalizers ?? []).toEqual([])
      // And it is still there, Terminating, until a kubelet confirms with a grace-0 delete.
      const after = await kube.request('GET', `${PODS}/graceful`)
      expect(after.status).toBe(200)
      expect(after.body.metadata.deletionTimestamp).toBe(deleted.body.metadata.deletionTimestamp)
      const confirmed = await kube.request('DELETE', `${PODS}/graceful`, {...deleteOptions(), gracePeriodSeconds: 0})
      expect(confirmed.status).toBe(200)
      expect((await kube.request('GET', `${PODS}/graceful`)).status).toBe(404)
    })
  })
})
