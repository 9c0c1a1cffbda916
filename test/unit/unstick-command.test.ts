import {describe, expect, it} from 'vitest'
import {type UnstickOptions, expandWaitValue, parseTargets, validate} from '../../src/commands/unstick.js'
import {UsageError} from '../../src/errors.js'

describe('parseTargets', () => {
  const show = (args: string[]) => parseTargets(args).map((t) => `${t.resource.plural}${t.name ? `/${t.name}` : ''}`)

  it.each([
    [[], ['jobs', 'pods']],
    [['jobs'], ['jobs']],
    [['jobs/export-job', 'po/worker'], ['jobs/export-job', 'pods/worker']],
    [['job.batch/a', 'jobs.batch/a', 'jobs/a'], ['jobs/a']],
    [['deploy/web', 'rs/web-5d4f', 'sts/db', 'cj/nightly'], ['deployments/web', 'replicasets/web-5d4f', 'statefulsets/db', 'cronjobs/nightly']],
    [['Job/a', 'cronjobs'], ['jobs/a', 'cronjobs']],
  ])('%j → %j', (args, expected) => {
    expect(show(args)).toEqual(expected)
  })

  it.each([
    [['services/a'], /unknown resource type "services"/],
    [['export-job'], /unknown resource type "export-job".*TYPE\/NAME/],
    [['jobs/'], /not TYPE or TYPE\/NAME/],
    [['jobs/a/b'], /not TYPE or TYPE\/NAME/],
    [['--bogus'], /^unknown flag: --bogus$/],
    [['--bogus=S3cret'], /^unknown flag: --bogus$/],
  ])('%j is a usage error', (args, message) => {
    expect(() => parseTargets(args)).toThrow(UsageError)
    expect(() => parseTargets(args)).toThrow(message)
  })
})

describe('expandWaitValue', () => {
  it.each([
    [['--wait'], ['--wait']],
    [['--wait', 'jobs/a'], ['--wait', 'jobs/a']],
    [['--wait=90s', 'jobs/a'], ['--wait', '--wait-timeout', '90s', 'jobs/a']],
    [['--', '--wait=1m'], ['--', '--wait=1m']],
  ])('%j → %j', (argv, expected) => {
    expect(expandWaitValue(argv)).toEqual(expected)
  })

  it('refuses a value that is not a duration', () => {
    expect(() => expandWaitValue(['--wait=soon'])).toThrow(UsageError)
  })
})

describe('validate', () => {
  const base: UnstickOptions = {
    kube: {allNamespaces: false},
    output: 'table',
    store: {noCache: true},
    targets: parseTargets([]),
    olderThanSeconds: 300,
    finalizers: [],
    deleteDependents: false,
    yes: false,
    exitCode: false,
    events: true,
    wait: false,
  }

  it.each<[string, Partial<UnstickOptions>]>([
    ['a dry run', {}],
    ['--yes --wait', {yes: true, wait: true}],
    ['--yes --wait --wait-timeout', {yes: true, wait: true, waitTimeoutSeconds: 30}],
    ['named objects in a namespace', {targets: parseTargets(['jobs/a']), kube: {allNamespaces: false, namespace: 'airflow'}}],
    ['--dry-run=server alone', {dryRunMode: 'server'}],
    ['--delete-dependents in a dry run', {deleteDependents: true}],
  ])('accepts %s', (_name, change) => {
    expect(() => validate({...base, ...change})).not.toThrow()
  })

  it.each<[string, Partial<UnstickOptions>, RegExp]>([
    ['-A with -n', {kube: {allNamespaces: true, namespace: 'x'}}, /--all-namespaces and --namespace/],
    ['a named object with -A', {targets: parseTargets(['jobs/a']), kube: {allNamespaces: true}}, /across all namespaces/],
    ['a named object with -l', {targets: parseTargets(['jobs/a']), selector: 'a=b'}, /--selector/],
    ['--wait without --yes', {wait: true}, /add --yes/],
    ['--wait with --dry-run=server', {wait: true, yes: true, dryRunMode: 'server'}, /no --dry-run/],
    ['--wait-timeout without --wait', {waitTimeoutSeconds: 30}, /goes with --wait/],
  ])('refuses %s', (_name, change, message) => {
    expect(() => validate({...base, ...change})).toThrow(message)
  })
})
