// The fake API server's server-side apply (test/support/fake-kube/apply.ts): what the cronjob tests
// rely on, and what would make them pass wrongly if it were missing.
import {describe, expect, it} from 'vitest'
import {applyConfig, checkApplyOptions, fieldSet, parseApplyBody} from '../support/fake-kube/apply.js'
import {fakeResourceByPlural} from '../support/fake-kube/resources.js'
import type {FakeObject} from '../support/fake-kube/store.js'

const cronjobs = fakeResourceByPlural('cronjobs')
const config = (spec: Record<string, unknown>, labels: Record<string, string> = {a: '1'}) =>
  ({apiVersion: 'batch/v1', kind: 'CronJob', metadata: {name: 'c', namespace: 'ns', labels}, spec}) as unknown as FakeObject
const stored = (object: FakeObject) => ({...object, metadata: {...object.metadata, uid: 'u', resourceVersion: '5', creationTimestamp: 't', generation: 1}}) as FakeObject

describe('fake server-side apply', () => {
  it('records the fields of the applied configuration (FieldsV1), lists as leaves', () => {
    expect(fieldSet({apiVersion: 'v1', kind: 'X', metadata: {name: 'n', labels: {a: '1'}}, spec: {list: [1, 2], nested: {b: true}}})).toEqual({
      'f:metadata': {'f:labels': {'f:a': {}}},
      'f:spec': {'f:list': {}, 'f:nested': {'f:b': {}}},
    })
  })

  it('an identical apply changes nothing; another value changes it and bumps the generation', () => {
    const created = stored(applyConfig(cronjobs, undefined, config({schedule: '* * * * *'}), 'me', false).object)
    expect(applyConfig(cronjobs, created, config({schedule: '* * * * *'}), 'me', false).changed).toBe(false)
    const {object, changed} = applyConfig(cronjobs, created, config({schedule: '0 * * * *'}), 'me', false)
    expect(changed).toBe(true)
    expect(object.spec).toEqual({schedule: '0 * * * *'})
    expect(object.metadata.generation).toBe(2)
  })

  it('a field the manager no longer applies is removed', () => {
    const created = stored(applyConfig(cronjobs, undefined, config({schedule: '* * * * *', suspend: true}), 'me', false).object)
    const {object} = applyConfig(cronjobs, created, config({schedule: '* * * * *'}), 'me', false)
    expect(object.spec).toEqual({schedule: '* * * * *'})
  })

  it("another manager's field: 409 Conflict without force, taken over with force", () => {
    const created = stored(applyConfig(cronjobs, undefined, config({schedule: '* * * * *'}), 'someone-else', false).object)
    expect(() => applyConfig(cronjobs, created, config({schedule: '0 * * * *'}), 'me', false)).toThrow(/Apply failed with \d+ conflicts?: conflict with "someone-else": .*\.spec\.schedule/)
    const {object} = applyConfig(cronjobs, created, config({schedule: '0 * * * *'}), 'me', true)
    expect(object.spec).toEqual({schedule: '0 * * * *'})
    const managers = object.metadata.managedFields as Array<{manager: string; fieldsV1: Record<string, unknown>}>
    expect(JSON.stringify(managers.find((m) => m.manager === 'someone-else')?.fieldsV1 ?? {})).not.toContain('f:schedule')
  })

  it('checks the options and the body as kube-apiserver does', () => {
    expect(() => checkApplyOptions('application/apply-patch+yaml', {})).toThrow(/fieldManager: Required value/)
    expect(() => checkApplyOptions('application/merge-patch+json', {force: 'true'})).toThrow(/force: Forbidden/)
    expect(checkApplyOptions('application/merge-patch+json', {})).toBeUndefined()
    expect(() => parseApplyBody('kind: CronJob\napiVersion: batch/v1\nmetadata: {name: other}\n', cronjobs, 'c')).toThrow(/does not match the name on the URL/)
    expect(() => parseApplyBody('{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "c"}}', cronjobs, 'c')).toThrow(/do not match the resource/)
    expect(parseApplyBody('apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\n', cronjobs, 'c').metadata.name).toBe('c')
  })
})
