// What the two REST APIs' answers mean: the release's try-number semantics, TimeDelta, the pod name
// in an XCom entry, and the task-instance shape checked before anything is decided on it.
import {describe, expect, it} from 'vitest'
import {listsState, personalityFor, podNameFromApi, taskInstanceFromApi, timeDeltaSeconds} from '../../src/airflow-api/personality.js'

describe('personalityFor', () => {
  it.each([
    ['v1', '2.7.3', 'airflow-2.7'],
    ['v1', '2.9.3', 'airflow-2.7'],
    ['v1', '2.10.5+composer', 'airflow-2.10'],
    ['v2', '3.0.6', 'airflow-3'],
    ['v2', '3.3.2', 'airflow-3'],
  ] as const)('%s %s reads try numbers as the %s DB family', (api, version, family) => {
    expect(personalityFor(api, version).family).toBe(family)
  })

  it.each([
    ['v1', '2.6.3'],
    ['v1', '3.0.0'],
    ['v2', '2.10.5'],
    ['v2', '4.0.0'],
  ] as const)('%s %s is refused', (api, version) => {
    expect(() => personalityFor(api, version)).toThrow(/is not supported/)
  })

  it('a version that is no version number is refused as such', () => {
    expect(() => personalityFor('v2', 'banana')).toThrow('the Airflow API reports version "banana", which is not a version number')
  })
})

describe('taskInstanceFromApi', () => {
  const raw = {dag_id: 'd', task_id: 't', dag_run_id: 'r', map_index: -1, try_number: 1, state: 'up_for_retry', start_date: '2026-01-01T00:00:00Z', operator: 'KubernetesPodOperator'}
  it('below 2.10 the column is one try behind a waiting task instance; from 2.10 it is the truth', () => {
    expect(taskInstanceFromApi(personalityFor('v1', '2.9.3'), raw).tryNumber).toBe(2)
    expect(taskInstanceFromApi(personalityFor('v1', '2.9.3'), {...raw, state: 'running'}).tryNumber).toBe(1)
    expect(taskInstanceFromApi(personalityFor('v1', '2.10.5'), raw).tryNumber).toBe(1)
  })

  it('v1 "none" is no state, as the DB holds NULL; v2 dag_version is kept; an unknown state passes through', () => {
    expect(taskInstanceFromApi(personalityFor('v1', '2.10.5'), {...raw, state: 'none'}).state).toBeNull()
    expect(taskInstanceFromApi(personalityFor('v2', '3.3.2'), {...raw, dag_version: {id: 'v-1'}}).dagVersionId).toBe('v-1')
    expect(taskInstanceFromApi(personalityFor('v2', '3.3.2'), {...raw, state: 'awaiting_review'}).state).toBe('awaiting_review')
  })

  it.each([
    ['no dag_run_id', {...raw, dag_run_id: undefined}],
    ['a map_index that is not an integer', {...raw, map_index: '0'}],
    ['a state that is not a string', {...raw, state: 3}],
    ['not an object', 'running'],
    ['null', null],
    ['no dag_id', {...raw, dag_id: undefined}],
    ['no task_id', {...raw, task_id: undefined}],
    ['a try_number that is not an integer', {...raw, try_number: '1'}],
  ])('%s is an error, not a guess', (_name, value) => {
    expect(() => taskInstanceFromApi(personalityFor('v2', '3.3.2'), value)).toThrow(/without dag_id/)
  })

  it('no try number and no state are read as none; dates, operator and version only when they are what they claim', () => {
    const v2 = personalityFor('v2', '3.3.2')
    expect(taskInstanceFromApi(v2, {...raw, try_number: null, state: null})).toMatchObject({tryNumber: 0, state: null})
    expect(taskInstanceFromApi(v2, raw)).toMatchObject({startDate: new Date('2026-01-01T00:00:00Z'), operator: 'KubernetesPodOperator', dagVersionId: null})
    expect(taskInstanceFromApi(v2, {...raw, start_date: 'soon', operator: 7, dag_version: {id: 7}})).toMatchObject({startDate: null, operator: null, dagVersionId: null})
    expect(taskInstanceFromApi(v2, {...raw, start_date: 1767225600000})).toMatchObject({startDate: null})
  })
})

describe('timeDeltaSeconds', () => {
  it.each([
    [{__type: 'TimeDelta', days: 1, seconds: 3600, microseconds: 500000}, 90000.5],
    [{days: 0, seconds: 0, microseconds: 0}, 0],
    [null, undefined],
    [{days: 1}, 'malformed'],
    [undefined, undefined],
    [{days: 1, seconds: 0}, 'malformed'],
    [{days: 1, microseconds: 0}, 'malformed'],
    [{seconds: 1, microseconds: 0}, 'malformed'],
  ])('%j → %s', (value, seconds) => {
    expect(timeDeltaSeconds(value)).toBe(seconds)
  })
})

describe('podNameFromApi', () => {
  it.each([
    ['etl-load-abc123', 'etl-load-abc123'],
    ['"etl-load-abc123"', 'etl-load-abc123'],
    ['s3://bucket/key', null],
    [{value: 'etl-load'}, null],
    ['Not_A_Pod', null],
    [42, null],
  ])('%j → %j', (value, name) => {
    expect(podNameFromApi(value)).toBe(name)
  })
})

describe('listsState: the states a release lets a task-instance list filter by', () => {
  it.each([
    ['v1', '2.10.5', 'running', true],
    ['v1', '2.10.5', 'shutdown', false],
    ['v1', '2.10.5', 'awaiting_input', false],
    ['v2', '3.2.1', 'awaiting_input', false],
    ['v2', '3.3.2', 'awaiting_input', true],
    ['v2', '3.3.2', 'shutdown', false],
    ['v2', '3.0.6', 'deferred', true],
  ] as const)('%s %s: %s → %s', (api, version, state, expected) => {
    expect(listsState(personalityFor(api, version), state)).toBe(expected)
  })
})
