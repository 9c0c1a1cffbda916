import {describe, expect, it} from 'vitest'
import {dependentsAdvice, hasPerRunSuffix, jobAdvisories, judgeStuck, remainingFinalizers} from '../../src/core/unstick.js'
import type {ObjectMeta} from '../../src/core/types.js'

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
    ['only a foreign finalizer', job(['example.com/protect'], 60), {stuck: true, remove: [], skipReason: 'foreign-finalizer'}],
  ])('%s', (_name, obj, expected) => {
    expect(judgeStuck(obj, options)).toMatchObject(expected)
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

  it('says what becomes of dependents', () => {
    expect(dependentsAdvice(['orphan'], ['pod/a'])).toMatch(/stay, orphaned/)
    expect(dependentsAdvice(['foregroundDeletion'], ['pod/a'])).toMatch(/--delete-dependents/)
    expect(dependentsAdvice(['orphan'], [])).toBeUndefined()
  })
})
