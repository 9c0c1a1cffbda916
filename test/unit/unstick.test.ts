import {describe, expect, it} from 'vitest'
import {formatAge} from '../../src/core/duration.js'
import type {ReportItem} from '../../src/core/report.js'
import type {ObjectMeta} from '../../src/core/types.js'
import {
  DEPENDENT_TYPES,
  type FinalizerPatchResult,
  dependentItem,
  dependentsAdvice,
  dependentsOf,
  hasPerRunSuffix,
  isForeground,
  jobAdvisories,
  judgeStuck,
  objectRef,
  recordPatch,
  remainingFinalizers,
  stuckItem,
} from '../../src/core/unstick.js'

const NOW = new Date('2026-11-23T10:00:00Z')

function job(finalizers: string[], deletedMinutesAgo?: number): ObjectMeta {
  return {
    kind: 'Job',
    namespace: 'airflow',
    name: 'export-job',
    uid: 'u1',
    resourceVersion: '7',
    labels: {},
    annotations: {},
    creationTimestamp: new Date('2026-11-23T08:00:00Z'),
    deletionTimestamp: deletedMinutesAgo === undefined ? undefined : new Date(NOW.getTime() - deletedMinutesAgo * 60_000),
    finalizers,
    ownerReferences: [],
  }
}

const options = {now: NOW, olderThanSeconds: 300, extraFinalizers: []}

describe('judgeStuck', () => {
  it.each([
    ['not being deleted', job(['orphan']), {stuck: false}],
    ['deleted, no finalizers left', job([], 60), {stuck: false}],
    ['orphan for an hour', job(['orphan'], 60), {stuck: true, remove: ['orphan'], keep: []}],
    ['foregroundDeletion for an hour', job(['foregroundDeletion'], 60), {stuck: true, remove: ['foregroundDeletion'], keep: []}],
    ['orphan, deleted a minute ago', job(['orphan'], 1), {stuck: true, skipReason: 'too-young'}],
    ['orphan plus a foreign finalizer', job(['orphan', 'example.com/protect'], 60), {stuck: true, remove: [], keep: ['example.com/protect'], skipReason: 'foreign-finalizer'}],
    ['only a foreign finalizer: another controller\'s business', job(['example.com/protect'], 60), {stuck: false, detail: expect.stringContaining('example.com/protect')}],
    ['deleted a minute ago, with a foreign finalizer too', job(['orphan', 'example.com/protect'], 1), {stuck: true, skipReason: 'foreign-finalizer'}],
    ['exactly --older-than ago', job(['orphan'], 5), {stuck: true, remove: ['orphan']}],
  ])('%s', (_name, obj, expected) => {
    const verdict = judgeStuck(obj, options)
    expect(verdict).toMatchObject(expected)
    if (!('skipReason' in expected) && verdict.stuck) expect(verdict.skipReason).toBeUndefined()
  })

  it('a finalizer named with --finalizer makes an object held only by it stuck', () => {
    const verdict = judgeStuck(job(['example.com/protect'], 60), {...options, extraFinalizers: ['example.com/protect']})
    expect(verdict).toMatchObject({stuck: true, remove: ['example.com/protect'], keep: []})
  })

  it('says how long the object has been terminating, kubectl-style', () => {
    expect(judgeStuck(job(['orphan'], 90), options)).toMatchObject({terminatingSeconds: 5400, detail: `terminating for ${formatAge(5400)} with finalizers [orphan]; the garbage collector has not removed orphan`})
  })

  it('removes a foreign finalizer only when named', () => {
    const verdict = judgeStuck(job(['orphan', 'example.com/protect'], 60), {...options, extraFinalizers: ['example.com/protect']})
    expect(verdict).toMatchObject({stuck: true, remove: ['orphan', 'example.com/protect'], keep: []})
    expect(verdict.stuck && verdict.skipReason).toBeUndefined()
  })

  it('keeps the order of the remaining finalizers', () => {
    expect(remainingFinalizers(['a', 'orphan', 'b'], ['orphan'])).toEqual(['a', 'b'])
  })
})

describe('advice', () => {
  it.each([
    ['export-job', false],
    ['export-job-x7k2p', true],
    ['backup-28374650', true],
    ['airflow-job-manual-2024-05-01t0000', true],
    ['etl-v2', false],
  ])('%s has a per-run suffix: %s', (name, expected) => {
    expect(hasPerRunSuffix(name)).toBe(expected)
  })

  it('advises TTL and unique names for a fixed-name Job', () => {
    expect(jobAdvisories({name: 'export-job'})).toHaveLength(2)
    expect(jobAdvisories({name: 'export-job-x7k2p', ttlSecondsAfterFinished: 600})).toEqual([])
  })

  it.each([
    ['ttl 0 is set', {name: 'a-x7k2p', ttlSecondsAfterFinished: 0}, []],
    ['spec unread: no TTL advice', {name: 'a-x7k2p', ttlSecondsAfterFinished: null}, []],
    ['a CronJob names its Jobs per run', {name: 'nightly', ttlSecondsAfterFinished: 60, ownedByCronJob: true}, []],
    ['deleted with Orphan', {name: 'a-x7k2p', ttlSecondsAfterFinished: 60, finalizers: ['orphan']}, [/propagationPolicy Background/]],
    ['deleted with Foreground', {name: 'a-x7k2p', ttlSecondsAfterFinished: 60, finalizers: ['foregroundDeletion']}, []],
    ['everything wrong', {name: 'export', finalizers: ['orphan']}, [/ttlSecondsAfterFinished/, /"export" looks fixed/, /Orphan/]],
  ])('%s', (_name, facts, expected) => {
    const advice = jobAdvisories(facts)
    expect(advice).toHaveLength(expected.length)
    expected.forEach((pattern, i) => expect(advice[i]).toMatch(pattern))
  })

  it('says what becomes of dependents', () => {
    expect(dependentsAdvice(['orphan'], ['pod/a'])).toMatch(/stay, as the orphan propagation asked/)
    expect(dependentsAdvice(['orphan'], ['pod/a'], true)).toMatch(/stay, as the orphan propagation asked/)
    expect(dependentsAdvice(['foregroundDeletion'], ['pod/a'])).toMatch(/leaves them in place \(--delete-dependents deletes them\)/)
    expect(dependentsAdvice(['foregroundDeletion'], ['pod/a'], true)).toMatch(/--delete-dependents deletes them before removing the finalizer$/)
    expect(dependentsAdvice(['orphan'], [])).toBeUndefined()
    expect(dependentsAdvice(['orphan'], ['p/1', 'p/2', 'p/3', 'p/4', 'p/5', 'p/6'])).toMatch(/p\/5, … \(6 in all\)/)
  })
})

describe('dependents', () => {
  function pod(name: string, ownerUids: string[], namespace = 'airflow'): ObjectMeta {
    return {
      ...job([]),
      kind: 'Pod',
      name,
      namespace,
      uid: `pod-${name}`,
      ownerReferences: ownerUids.map((uid) => ({apiVersion: 'batch/v1', kind: 'Job', name: 'x', uid})),
    }
  }

  it('are the objects whose ownerReferences name the owner by UID, in its namespace', () => {
    const owner = job(['orphan'], 60)
    const candidates = [pod('mine', ['u1']), pod('other', ['u2']), pod('two-owners', ['u9', 'u1']), pod('elsewhere', ['u1'], 'other-ns'), pod('free', [])]
    expect(dependentsOf(owner, candidates).map((p) => p.name)).toEqual(['mine', 'two-owners'])
  })

  it.each([
    ['Job', ['pods']],
    ['CronJob', ['jobs']],
    ['Deployment', ['replicasets']],
    ['ReplicaSet', ['pods']],
    ['StatefulSet', ['pods']],
    ['Pod', undefined],
  ])('of a %s are %s', (kind, types) => {
    expect(DEPENDENT_TYPES[kind]).toEqual(types)
  })

  it('a dependent taken over by --delete-dependents gets its own line', () => {
    const item = dependentItem(pod('worker', ['u1']), job(['foregroundDeletion'], 60), NOW)
    expect(item).toMatchObject({kind: 'Pod', name: 'worker', uid: 'pod-worker', reason: 'stuck-terminating', action: 'none', taskInstance: null, ageSeconds: 7200})
    expect(item.detail).toMatch(/^dependent of job\/export-job/)
  })

  it('foreground is the finalizer foregroundDeletion', () => {
    expect(isForeground(['foregroundDeletion'])).toBe(true)
    expect(isForeground(['orphan'])).toBe(false)
  })
})

describe('recordPatch', () => {
  function item(): ReportItem {
    const obj = job(['orphan'], 60)
    const verdict = judgeStuck(obj, options)
    if (!verdict.stuck) throw new Error('expected stuck')
    return stuckItem(obj, verdict, NOW)
  }

  it.each<[FinalizerPatchResult, boolean, Partial<ReportItem>, RegExp]>([
    ['gone', false, {action: 'patched'}, /removed \[orphan\], and the API server deleted it$/],
    ['patched', false, {action: 'patched'}, /removed \[orphan\]$/],
    ['changed-concurrently', false, {action: 'skipped', skipReason: 'changed-concurrently'}, /nothing was changed/],
    ['not-found', false, {action: 'skipped', skipReason: 'already-gone'}, /already gone/],
    ['gone', true, {action: 'none'}, /server dry run/],
    ['changed-concurrently', true, {action: 'skipped', skipReason: 'changed-concurrently'}, /refused/],
  ])('%s (server dry run: %s)', (outcome, serverDryRun, expected, detail) => {
    const line = item()
    recordPatch(line, ['orphan'], outcome, serverDryRun)
    expect(line).toMatchObject(expected)
    expect(line.detail).toMatch(detail)
    if (line.action !== 'skipped') expect(line.skipReason).toBeUndefined()
  })
})

describe('objectRef', () => {
  it('names objects as -o name does', () => {
    expect(objectRef({kind: 'Job', namespace: 'airflow', name: 'export-job'})).toBe('job/airflow/export-job')
  })
})

describe('judgeStuck: what each verdict says', () => {
  it.each([
    [job(['orphan']), 'not being deleted'],
    [job([], 60), 'being deleted, no finalizer holds it'],
    [job(['example.com/a', 'example.com/b'], 60), "held by other controllers' finalizers [example.com/a, example.com/b], no garbage-collector finalizer (name one with --finalizer to remove it)"],
    [job(['orphan', 'example.com/a'], 60), 'terminating for 60m with finalizers [orphan, example.com/a]; example.com/a belongs to another controller (name it with --finalizer to remove it)'],
    [job(['orphan', 'example.com/a', 'example.com/b'], 60), 'terminating for 60m with finalizers [orphan, example.com/a, example.com/b]; example.com/a, example.com/b belongs to another controller (name it with --finalizer to remove it)'],
    [job(['orphan'], 1), 'terminating for 60s with finalizers [orphan]; the garbage collector may still act (--older-than)'],
    [job(['orphan', 'foregroundDeletion'], 60), 'terminating for 60m with finalizers [orphan, foregroundDeletion]; the garbage collector has not removed orphan, foregroundDeletion'],
  ])('%#', (obj, detail) => {
    expect(judgeStuck(obj, options).detail).toBe(detail)
  })

  it('the report line of a stuck object: its kind, reason, and no skip reason unless the verdict has one', () => {
    const verdict = judgeStuck(job(['orphan'], 60), options)
    if (!verdict.stuck) throw new Error('expected stuck')
    const item = stuckItem(job(['orphan'], 60), verdict, NOW)
    expect(item).toMatchObject({kind: 'Job', reason: 'stuck-terminating', action: 'none'})
    expect('skipReason' in item).toBe(false)
    const young = judgeStuck(job(['orphan'], 1), options)
    if (!young.stuck) throw new Error('expected stuck')
    expect(stuckItem(job(['orphan'], 1), young, NOW)).toMatchObject({action: 'skipped', skipReason: 'too-young'})
  })

  it('dependents advice names at most five, then how many in all', () => {
    const names = (n: number) => Array.from({length: n}, (_, i) => `pod/p${i}`)
    expect(dependentsAdvice(['orphan'], names(5))).toBe('dependents pod/p0, pod/p1, pod/p2, pod/p3, pod/p4 stay, as the orphan propagation asked; they still name the deleted owner, so a garbage collector that runs again later deletes them')
    expect(dependentsAdvice(['foregroundDeletion'], names(6))).toBe(
      'dependents pod/p0, pod/p1, pod/p2, pod/p3, pod/p4, … (6 in all) would have been deleted by the garbage collector first; removing the finalizer leaves them in place (--delete-dependents deletes them)',
    )
    expect(dependentsAdvice(['orphan'], [])).toBeUndefined()
  })

  it('a patch line says which finalizers were removed', () => {
    const item = {detail: 'x', action: 'none'} as ReportItem
    recordPatch(item, ['orphan', 'foregroundDeletion'], 'patched', false)
    expect(item).toMatchObject({action: 'patched', detail: 'x; removed [orphan, foregroundDeletion]'})
  })
})
