import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {makeSafeLabelValue, mayBeRewritten, readPodTaskLabels} from '../../src/core/labels.js'
import {sharedFixture} from '../support/paths.js'

interface Vector {
  input: string
  output: string
  category: string
}
const vectors: Vector[] = JSON.parse(readFileSync(sharedFixture('airflow/label-vectors.json'), 'utf8')).vectors

describe('makeSafeLabelValue', () => {
  it('has the shared vectors to check against', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(38)
  })
  it.each(vectors.map((v) => [v.category, v.input, v.output]))('%s: %j → %j', (_category, input, output) => {
    expect(makeSafeLabelValue(input)).toBe(output)
  })
})

describe('readPodTaskLabels', () => {
  const base = {dag_id: 'd', task_id: 't', run_id: 'r', try_number: '2', kubernetes_pod_operator: 'True'}
  it.each([
    ['unmapped task', base, {ok: true, labels: {dagId: 'd', taskId: 't', runId: 'r', mapIndex: -1, tryNumber: 2}}],
    ['mapped task', {...base, map_index: '7'}, {ok: true, labels: {dagId: 'd', taskId: 't', runId: 'r', mapIndex: 7, tryNumber: 2}}],
    ['no run_id', {...base, run_id: ''}, {ok: false, problem: 'missing label run_id'}],
    ['no dag_id nor try', {task_id: 't', run_id: 'r'}, {ok: false, problem: 'missing label dag_id, try_number'}],
    ['bad try', {...base, try_number: 'x'}, {ok: false, problem: 'label try_number="x" is not a number'}],
    ['bad map index', {...base, map_index: '-1'}, {ok: false, problem: 'label map_index="-1" is not a number'}],
    ['a try of two digits', {...base, try_number: '12'}, {ok: true, labels: {dagId: 'd', taskId: 't', runId: 'r', mapIndex: -1, tryNumber: 12}}],
    ['a try with trailing junk', {...base, try_number: '2x'}, {ok: false, problem: 'label try_number="2x" is not a number'}],
    ['a try with leading junk', {...base, try_number: 'x2'}, {ok: false, problem: 'label try_number="x2" is not a number'}],
    ['a try too long to be one', {...base, try_number: '1234567890'}, {ok: false, problem: 'label try_number="1234567890" is not a number'}],
    ['a map index of nine digits', {...base, map_index: '123456789'}, {ok: true, labels: {dagId: 'd', taskId: 't', runId: 'r', mapIndex: 123456789, tryNumber: 2}}],
  ])('%s', (_name, labels, expected) => {
    expect(readPodTaskLabels(labels as Record<string, string>)).toEqual(expected)
  })
})

describe('mayBeRewritten', () => {
  it('is true for every rewritten vector and false for every value returned unchanged', () => {
    // The property the zombie scan relies on: a label that is not the original value is always flagged.
    for (const {input, output} of vectors) {
      if (input !== output) expect(mayBeRewritten(output), input).toBe(true)
      else if (!/-[0-9a-f]{9}$/.test(input)) expect(mayBeRewritten(output), input).toBe(false)
    }
  })
  it.each([
    ['extract', false],
    ['load.publish', false],
    ['transform_group.normalise_customer_records_for_the_downstr-0123abcde', true],
    ['load-0123abcde', true], // may be an original id too: then the whole run is read, which is only slower
    ['load-0123ABCDE', false],
  ])('%s → %s', (label, expected) => {
    expect(mayBeRewritten(label)).toBe(expected)
  })
})
