// `--real`: the bench's pods in a real kube-apiserver (etcd-backed pages), started by the real-server
// tests' harness (test/support/real-kube.ts: etcd and kube-apiserver built by scripts/real-cluster.sh,
// on 127.0.0.1), so that the floor and `zombies` are timed against what a real server serves.
//
// A real server is not seeded, it is written to through its API, and it keeps its own counsel on
// what a create may set:
// - creationTimestamp is the server's clock at the create (the one sent is dropped), so the pods are
//   as old as the bench run, not 50 minutes to 12 hours; run.ts anchors the data set ahead instead
//   (ANCHOR_AHEAD_MS) and waits out --min-age before timing anything;
// - status is reset to Pending on create (PrepareForCreate): the Running status the fake holds is
//   written afterwards through the `status` subresource, as a kubelet does (a merge patch);
// - managedFields are the server's own: the pods are created with fieldManager OpenAPI-Generator
//   (the Python client KPO uses) and their status written with fieldManager kubelet, so the entries a
//   metadata-only page carries are the ones a real cluster would hold.
import {closeSync, openSync, readFileSync, readdirSync, statSync, writeSync} from 'node:fs'
import path from 'node:path'
import type {ReportItem} from '../src/core/report.js'
import {forEachLimited} from '../src/reap/pool.js'
import type {RealKube} from '../test/support/real-kube.js'
import {type BenchPod, NAMESPACES, type Plan, namespaceOf, pods} from './dataset.js'
import {fullPod} from './pod-object.js'

/**
 * How far ahead of the bench's clock the data set is anchored. The real pods are created now; every
 * try's start must still follow its pods' creation as in the generated world, or the stale-try rule
 * (a pod created after the current try started may be that try's) spares the stale tries' pods. The
 * oldest running try starts about 10 hours before the anchor (dataset.ts), hence 12.
 */
export const ANCHOR_AHEAD_MS = 12 * 3_600_000
/** Creates and status writes in flight at once. */
export const WRITE_CONCURRENCY = 16
const PAGE = 500

/** What is POSTed for a bench pod, and the status then written through the `status` subresource. */
export function realPodRequests(pod: BenchPod): {create: Record<string, unknown>; status: Record<string, unknown>} {
  const {metadata, status, ...rest} = fullPod(pod)
  const {creationTimestamp: _stamped, managedFields: _serverOwn, ...kept} = metadata
  return {create: {apiVersion: 'v1', kind: 'Pod', ...rest, metadata: kept}, status: status as Record<string, unknown>}
}

export interface RealLoad {
  pods: number
  createMs: number
  statusMs: number
  /** When the last pod was created (the server's creationTimestamp is at most this). */
  lastCreatedMs: number
}

/** Creates the plan's namespaces and pods, then writes every pod's status (Running), WRITE_CONCURRENCY at a time. */
export async function loadRealPods(kube: RealKube, plan: Plan, log: (line: string) => void): Promise<RealLoad> {
  for (let i = 0; i < NAMESPACES; i++) {
    await expectStatus(kube.request('POST', '/api/v1/namespaces', {apiVersion: 'v1', kind: 'Namespace', metadata: {name: namespaceOf(i)}}), 201, 'create namespace')
  }
  const all = [...pods(plan)]
  const progress = every(10_000, (done) => log(`  real: ${done} of ${all.length}`))
  const createStart = performance.now()
  await forEachLimited(all, WRITE_CONCURRENCY, async (pod) => {
    const {create} = realPodRequests(pod)
    await expectStatus(kube.request('POST', `/api/v1/namespaces/${pod.namespace}/pods?fieldManager=OpenAPI-Generator`, create), 201, `create pod ${pod.namespace}/${pod.name}`)
    progress()
  })
  const lastCreatedMs = Date.now()
  const createMs = performance.now() - createStart
  log(`  real: ${all.length} pods created in ${(createMs / 1000).toFixed(1)} s`)
  const statusStart = performance.now()
  await forEachLimited(all, WRITE_CONCURRENCY, async (pod) => {
    const {status} = realPodRequests(pod)
    const path_ = `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}/status?fieldManager=kubelet`
    await expectStatus(kube.request('PATCH', path_, {status}, {contentType: 'application/merge-patch+json'}), 200, `status of pod ${pod.namespace}/${pod.name}`)
  })
  const statusMs = performance.now() - statusStart
  log(`  real: their status written in ${(statusMs / 1000).toFixed(1)} s`)
  return {pods: all.length, createMs, statusMs, lastCreatedMs}
}

async function expectStatus(answer: Promise<{status: number; body: unknown}>, status: number, what: string): Promise<void> {
  const reply = await answer
  if (reply.status !== status) throw new Error(`${what}: ${reply.status} ${JSON.stringify(reply.body).slice(0, 400)}`)
}

function every(step: number, report: (done: number) => void): () => void {
  let done = 0
  return () => {
    done++
    if (done % step === 0) report(done)
  }
}

export interface Dumped {
  pods: number
  /** JSON bytes of the pods' metadata (what a metadata-only page carries per pod), in all: the real server's and the bench's own. */
  metadataBytes: {real: number; generated: number}
}

/**
 * Every pod in full as the real server lists it, one JSON object a line in `files.real`; and in
 * `files.generated` the bench's own object for each (fullPod, what the main table's fake serves)
 * with the real one's UID and creation time, so that --min-age and the findings' UIDs agree.
 */
export async function dumpPods(kube: RealKube, plan: Plan, files: {real: string; generated: string}): Promise<Dumped> {
  const byKey = new Map<string, BenchPod>()
  for (const pod of pods(plan)) byKey.set(`${pod.namespace}/${pod.name}`, pod)
  const fds = {real: openSync(files.real, 'w'), generated: openSync(files.generated, 'w')}
  const dumped: Dumped = {pods: 0, metadataBytes: {real: 0, generated: 0}}
  try {
    let token = ''
    do {
      const query = `limit=${PAGE}${token ? `&continue=${encodeURIComponent(token)}` : ''}`
      const page = await kube.request('GET', `/api/v1/pods?${query}`)
      if (page.status !== 200) throw new Error(`list pods: ${page.status} ${JSON.stringify(page.body).slice(0, 400)}`)
      const lines = {real: [] as string[], generated: [] as string[]}
      for (const object of page.body.items as Array<{metadata: {namespace: string; name: string; uid: string; creationTimestamp: string}}>) {
        const pod = byKey.get(`${object.metadata.namespace}/${object.metadata.name}`)
        if (!pod) throw new Error(`the real server holds a pod the plan does not: ${object.metadata.namespace}/${object.metadata.name}`)
        const twin = generatedTwin(pod, object.metadata)
        lines.real.push(JSON.stringify(object))
        lines.generated.push(JSON.stringify(twin))
        dumped.metadataBytes.real += JSON.stringify(object.metadata).length
        dumped.metadataBytes.generated += JSON.stringify(twin.metadata).length
        dumped.pods++
      }
      for (const side of ['real', 'generated'] as const) if (lines[side].length > 0) writeSync(fds[side], `${lines[side].join('\n')}\n`)
      token = page.body.metadata?.continue ?? ''
    } while (token)
  } finally {
    closeSync(fds.real)
    closeSync(fds.generated)
  }
  return dumped
}

/** The bench's own object for a pod, with the real server's UID and creation time. */
export function generatedTwin(pod: BenchPod, real: {uid: string; creationTimestamp: string}): ReturnType<typeof fullPod> {
  const object = fullPod(pod)
  object.metadata.uid = real.uid
  object.metadata.creationTimestamp = real.creationTimestamp
  return object
}

/** Peak RSS in MB (VmHWM) of each of the control plane's processes so far. */
export function controlPlanePeakRss(kube: RealKube): Record<string, number> {
  const peaks: Record<string, number> = {}
  for (const [name, pid] of Object.entries(kube.pids())) {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    if (kb) peaks[name] = Number(kb) / 1024
  }
  return peaks
}

/** Bytes under a directory (etcd's data: its bbolt file and WAL). */
export function directoryBytes(dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const full = path.join(dir, entry.name)
    total += entry.isDirectory() ? directoryBytes(full) : statSync(full).size
  }
  return total
}

// --- findings, compared server against server -------------------------------------------------------

/** A report item as compared: everything but its age, which moves with the clock. */
export type Finding = Omit<ReportItem, 'ageSeconds'>

/** The items of a `zombies -o json` report by namespace/name. */
export function findingsOf(reportJson: string): Map<string, Finding> {
  const report = JSON.parse(reportJson) as {items: ReportItem[]}
  const findings = new Map<string, Finding>()
  for (const {ageSeconds: _age, ...item} of report.items) findings.set(`${item.namespace}/${item.name}`, item)
  return findings
}

/** namespace/name of the pods the data set made zombies (what `zombies` must report, action none). */
export function plannedZombies(plan: Plan): Set<string> {
  const names = new Set<string>()
  for (const pod of pods(plan)) if (pod.zombie) names.add(`${pod.namespace}/${pod.name}`)
  return names
}

/**
 * How two sets of findings differ, one line per pod (at most `limit`, then a count): a pod only one
 * side reports, or a field (reason, detail, phase, uid, action, skip reason, task instance) that
 * differs. Empty when they are the same.
 */
export function findingDifferences(left: Map<string, Finding>, right: Map<string, Finding>, names: [string, string], limit = 10): string[] {
  const lines: string[] = []
  for (const key of new Set([...left.keys(), ...right.keys()])) {
    const a = left.get(key)
    const b = right.get(key)
    if (!a || !b) {
      lines.push(`${key}: reported by ${a ? names[0] : names[1]} only (${JSON.stringify(a ?? b)})`)
      continue
    }
    const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort() as Array<keyof Finding>
    const differing = fields.filter((field) => JSON.stringify(a[field]) !== JSON.stringify(b[field]))
    if (differing.length > 0) {
      lines.push(`${key}: ${differing.map((field) => `${field} ${JSON.stringify(a[field])} (${names[0]}) ≠ ${JSON.stringify(b[field])} (${names[1]})`).join('; ')}`)
    }
  }
  return lines.length > limit ? [...lines.slice(0, limit), `… and ${lines.length - limit} more`] : lines
}

/** The findings a dry run would act on (action none) against the planned zombies: the lines that differ. */
export function plannedDifferences(findings: Map<string, Finding>, planned: Set<string>, limit = 10): string[] {
  const acted = new Set([...findings].filter(([, item]) => item.action === 'none').map(([key]) => key))
  const lines = [
    ...[...planned].filter((key) => !acted.has(key)).map((key) => `${key}: a planned zombie, not reported as one (${JSON.stringify(findings.get(key) ?? null)})`),
    ...[...acted].filter((key) => !planned.has(key)).map((key) => `${key}: reported as a zombie, not planned as one`),
  ]
  return lines.length > limit ? [...lines.slice(0, limit), `… and ${lines.length - limit} more`] : lines
}

// --- clean-up ----------------------------------------------------------------------------------------

/**
 * What a run has set up (control plane, DB, fake server, files), undone newest first: at the end, on an
 * error, and on SIGINT/SIGTERM (the control plane runs in process groups of its own, which a Ctrl-C
 * in the terminal does not reach). Each step is bounded, and one failing does not stop the others.
 */
export class Teardown {
  private readonly steps: Step[] = []
  private closed = false
  /** The runs so far, one after the other: a run awaits the one in progress (the signal's and the main flow's may overlap). */
  private runs: Promise<void> = Promise.resolve()

  constructor(
    private readonly log: (line: string) => void,
    private readonly stepTimeoutMs = 30_000,
  ) {}

  /** Once closed (a signal), what is still being set up is undone as soon as it is added. */
  add(name: string, undo: () => Promise<unknown> | unknown): void {
    if (this.closed) void this.undo({name, undo})
    else this.steps.push({name, undo})
  }

  /** Undoes every step added so far; resolves when no undo is left in progress. */
  run(): Promise<void> {
    this.runs = this.runs.then(async () => {
      for (let step = this.steps.pop(); step; step = this.steps.pop()) await this.undo(step)
    })
    return this.runs
  }

  /** Undoes everything, and whatever is added afterwards. */
  async close(): Promise<void> {
    this.closed = true
    await this.run()
  }

  private async undo(step: Step): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not done within ${this.stepTimeoutMs / 1000} s`)), this.stepTimeoutMs)
    })
    try {
      await Promise.race([Promise.resolve().then(step.undo), timeout])
    } catch (error) {
      this.log(`clean-up: ${step.name}: ${error instanceof Error ? error.message : String(error)}`)
    } finally {
      clearTimeout(timer)
    }
  }
}

interface Step {
  name: string
  undo: () => Promise<unknown> | unknown
}
