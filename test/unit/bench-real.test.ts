// The pieces of the benchmark's --real mode that need no server (bench/real.ts): what is sent to a real
// kube-apiserver for a bench pod, how findings are compared server against server and against the
// plan, and the clean-up that also runs on Ctrl-C.
import {describe, expect, it} from 'vitest'
import {type Finding, Teardown, findingDifferences, findingsOf, generatedTwin, plannedDifferences, plannedZombies, realPodRequests} from '../../bench/real.js'
import {planDataset, pods} from '../../bench/dataset.js'
import {fullPod} from '../../bench/pod-object.js'

const plan = planDataset(200, Date.UTC(2026, 11, 7, 12))
const [first] = pods(plan)

function finding(name: string, change: Partial<Finding> = {}): Finding {
  return {
    kind: 'Pod',
    namespace: 'ns',
    name,
    uid: `uid-${name}`,
    phase: 'Running',
    reason: 'no-active-task-instance',
    detail: 'task instance is success (try 1)',
    taskInstance: null,
    action: 'none',
    ...change,
  }
}

const byName = (...items: Finding[]) => new Map(items.map((item) => [`${item.namespace}/${item.name}`, item]))

describe('realPodRequests: a bench pod as a real server takes it', () => {
  const {create, status} = realPodRequests(first)
  const metadata = create.metadata as Record<string, unknown>

  it('sends neither creationTimestamp nor managedFields nor status with the create (the server sets its own)', () => {
    expect(metadata).not.toHaveProperty('creationTimestamp')
    expect(metadata).not.toHaveProperty('managedFields')
    expect(create).not.toHaveProperty('status')
    expect(create).toMatchObject({apiVersion: 'v1', kind: 'Pod'})
  })

  it('keeps what the verdict and the fake read: name, namespace, labels, annotations, the spec', () => {
    const full = fullPod(first)
    expect(metadata).toEqual({namespace: first.namespace, name: first.name, labels: first.labels, annotations: first.annotations})
    expect(create.spec).toEqual(full.spec)
  })

  it('writes the fake\'s Running status afterwards, its container statuses naming the spec\'s containers', () => {
    expect(status).toEqual(fullPod(first).status)
    expect(status.phase).toBe('Running')
    const containers = (create.spec as {containers: {name: string}[]}).containers.map((c) => c.name)
    expect((status.containerStatuses as {name: string}[]).map((c) => c.name)).toEqual(containers)
  })
})

describe('generatedTwin: the bench\'s own object for a pod the real server holds', () => {
  it('is fullPod with the real UID and creation time (what --min-age and the findings read), nothing else changed', () => {
    const twin = generatedTwin(first, {uid: 'real-uid', creationTimestamp: '2026-12-07T23:00:00Z'})
    const own = fullPod(first)
    expect(twin.metadata.uid).toBe('real-uid')
    expect(twin.metadata.creationTimestamp).toBe('2026-12-07T23:00:00Z')
    expect({...twin, metadata: {...twin.metadata, uid: undefined, creationTimestamp: own.metadata.creationTimestamp}}).toEqual({...own, metadata: {...own.metadata, uid: undefined}})
  })
})

describe('findings compared server against server', () => {
  it('reads a report\'s items by namespace/name, without their age', () => {
    const report = {items: [{...finding('a'), ageSeconds: 301}]}
    expect([...findingsOf(JSON.stringify(report))]).toEqual([['ns/a', finding('a')]])
  })

  it('finds nothing to say about the same findings', () => {
    expect(findingDifferences(byName(finding('a'), finding('b')), byName(finding('b'), finding('a')), ['real', 'fake'])).toEqual([])
  })

  it('names a pod only one side reports, and each field that differs', () => {
    const lines = findingDifferences(byName(finding('a'), finding('b', {phase: 'Pending'})), byName(finding('b')), ['real', 'fake'])
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^ns\/a: reported by real only/)
    expect(lines[1]).toBe('ns/b: phase "Pending" (real) ≠ "Running" (fake)')
  })

  it('a field present on one side only is a difference (a skip reason)', () => {
    const lines = findingDifferences(byName(finding('a', {action: 'skipped', skipReason: 'may-be-reattached'})), byName(finding('a')), ['real', 'fake'])
    expect(lines).toEqual(['ns/a: action "skipped" (real) ≠ "none" (fake); skipReason "may-be-reattached" (real) ≠ undefined (fake)'])
  })

  it('stops at the limit and says how many more', () => {
    const many = byName(...Array.from({length: 15}, (_, i) => finding(`p${i}`)))
    expect(findingDifferences(many, new Map(), ['real', 'fake'], 10)).toHaveLength(11)
    expect(findingDifferences(many, new Map(), ['real', 'fake'], 10)[10]).toBe('… and 5 more')
  })

  it('against the plan: a planned zombie not acted on, and a zombie not planned', () => {
    const planned = plannedZombies(plan)
    expect(planned.size).toBe(6) // 3 % of 200
    const [one, two, ...rest] = [...planned]
    const items = byName(
      ...rest.map((key) => finding(key.split('/')[1], {namespace: key.split('/')[0]})),
      finding(two.split('/')[1], {namespace: two.split('/')[0], action: 'skipped', skipReason: 'may-be-reattached'}),
      finding('intruder'),
    )
    const lines = plannedDifferences(items, planned)
    expect(lines).toHaveLength(3)
    expect(lines[0]).toBe(`${one}: a planned zombie, not reported as one (null)`)
    expect(lines[1]).toMatch(new RegExp(`^${two}: a planned zombie, not reported as one \\(.*may-be-reattached`))
    expect(lines[2]).toBe('ns/intruder: reported as a zombie, not planned as one')
    expect(plannedDifferences(byName(...[...planned].map((key) => finding(key.split('/')[1], {namespace: key.split('/')[0]}))), planned)).toEqual([])
  })
})

describe('Teardown', () => {
  it('undoes newest first, goes on past a step that fails, and runs each step once', async () => {
    const done: string[] = []
    const logged: string[] = []
    const teardown = new Teardown((line) => logged.push(line))
    teardown.add('first', () => done.push('first'))
    teardown.add('broken', () => Promise.reject(new Error('boom')))
    teardown.add('last', async () => done.push('last'))
    await teardown.run()
    await teardown.run()
    expect(done).toEqual(['last', 'first'])
    expect(logged).toEqual(['clean-up: broken: boom'])
  })

  it('once closed (a signal), undoes a step as soon as it is added', async () => {
    const done: string[] = []
    const teardown = new Teardown(() => undefined)
    teardown.add('before', () => done.push('before'))
    await teardown.close()
    teardown.add('started meanwhile', () => done.push('started meanwhile'))
    await new Promise((resolve) => setImmediate(resolve))
    expect(done).toEqual(['before', 'started meanwhile'])
  })

  it('a run that starts while another is undoing a step ends only after that step', async () => {
    const done: string[] = []
    let release = () => undefined as void
    const teardown = new Teardown(() => undefined)
    teardown.add('slow', () => new Promise<void>((resolve) => (release = () => resolve(done.push('slow') as unknown as void))))
    const first = teardown.run()
    await new Promise((resolve) => setImmediate(resolve))
    let secondEnded = false
    const second = teardown.close().then(() => (secondEnded = true))
    await new Promise((resolve) => setImmediate(resolve))
    expect(secondEnded).toBe(false)
    release()
    await Promise.all([first, second])
    expect(done).toEqual(['slow'])
  })

  it('does not wait for ever on a step that hangs', async () => {
    const logged: string[] = []
    const teardown = new Teardown((line) => logged.push(line), 50)
    let after = false
    teardown.add('after', () => (after = true))
    teardown.add('hangs', () => new Promise(() => undefined))
    await teardown.run()
    expect(after).toBe(true)
    expect(logged).toEqual(['clean-up: hangs: not done within 0.05 s'])
  })
})
