// The unstick command's run, loaded only when the command runs (the Kubernetes client, the store and
// the spinner are the heavy part of the program).
import type {UnstickOptions} from '../commands/unstick.js'
import {DEFAULT_WAIT_TIMEOUT_SECONDS} from '../core/timeouts.js'
import {formatAge} from '../core/duration.js'
import {objectRef} from '../core/unstick.js'
import {ReapError, interruption} from '../errors.js'
import {renderReport} from '../render/report.js'
import {adviceLines} from '../render/unstick-advice.js'
import {nothingFound} from './nothing-found.js'
import {createProgress} from '../reap/progress.js'
import {announceActions} from '../reap/events.js'
import {RunRecorder} from '../reap/recorder.js'
import {settleEarlierRuns} from '../reap/settle.js'
import {type ReportDraft, exitCodeFor, notSentNote, runReport} from '../reap/run.js'
import {type KubeSession, openKubeRecorded, runMetaFromFlags} from '../reap/session.js'
import {type UnstickConfig, type UnstickScan, type WaitResult, reportItems, scanStuck, unstick, waitUntilFreed} from '../reap/unstick.js'

const CONCURRENCY = 10

export async function executeUnstick(options: UnstickOptions, signal: AbortSignal): Promise<void> {
  const progress = await createProgress()
  const recorder = new RunRecorder(options.store, progress)
  const acting = (options.yes && options.dryRunMode !== 'client') || options.dryRunMode === 'server'
  let kube: KubeSession | undefined
  const common: Omit<UnstickConfig, 'namespace'> = {
    selector: options.selector,
    targets: options.targets,
    olderThanSeconds: options.olderThanSeconds,
    extraFinalizers: options.finalizers,
    deleteDependents: options.deleteDependents,
    serverDryRun: options.dryRunMode === 'server',
    concurrency: CONCURRENCY,
  }
  let scan: UnstickScan | undefined
  let waited: WaitResult | undefined
  try {
    const report = await runReport({
      kind: 'UnstickReport',
      recorder,
      progress,
      meta: runMetaFromFlags('unstick', options.kube, {dryRun: !(options.yes && options.dryRunMode === undefined), dryRunMode: options.dryRunMode}),
      signal: signal,
      work: async (draft) => {
        const session = openKubeRecorded(options.kube, recorder, progress)
        kube = session
        await settleEarlierRuns(session.client, recorder, progress, signal)
        const config = {...common, namespace: session.namespace}
        const deps = {kube: session.client, progress, signal: signal, journal: recorder.journalFor(draft)}
        scan = await scanStuck(deps, config)
        draft.scanned = scan.scanned
        draft.items = reportItems(scan)
        for (const warning of scan.warnings) progress.warn(warning)
        draft.warnings.push(...scan.warnings)
        recorder.findings(draft.scanned, draft.items)
        if (!acting) return
        await unstick(deps, scan, config)
        if (options.wait && !signal.aborted) {
          waited = await waitUntilFreed(deps, scan, options.waitTimeoutSeconds ?? DEFAULT_WAIT_TIMEOUT_SECONDS, CONCURRENCY)
        }
        draft.failure = failureOf(draft, waited, options.waitTimeoutSeconds ?? DEFAULT_WAIT_TIMEOUT_SECONDS)
      },
      // No Events when the kubeconfig could not even be read (nothing was acted on then).
      announce: options.events ? async (items) => (kube ? announceActions(kube.client, items, progress) : []) : undefined,
    })
    progress.stop()
    process.stdout.write(renderReport(report, options.output, {allNamespaces: options.kube.allNamespaces, serverDryRun: options.dryRunMode === 'server', dryRunNone: options.dryRunNone}))
    if (kube && !report.interrupted) process.stderr.write(await nothingFound(report, options.output, kube.client, kube.namespace, signal))
    if (options.output === 'table' || options.output === 'wide') process.stderr.write(adviceLines(scan?.findings ?? [], waited?.freed))
    if (report.interrupted) throw interruption(signal, 'patches not yet started were abandoned; the run is recorded as interrupted')
    if (report.failure) throw new ReapError(report.failure)
    process.exitCode = exitCodeFor(report, options.exitCode)
  } finally {
    progress.stop()
    recorder.close()
    kube?.client.close()
  }
}

/** Why the run failed although it ran to its end: refused writes, a wait that timed out. */
function failureOf(draft: ReportDraft, waited: WaitResult | undefined, waitTimeoutSeconds: number): string | undefined {
  const problems: string[] = []
  const failed = draft.items.filter((i) => i.action === 'failed')
  if (failed.length > 0) {
    const first = failed[0]
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more failures: see the report)` : ''
    problems.push(`could not unstick ${objectRef(first)}: ${first.error ?? 'unknown error'}${more}${notSentNote(draft.items)}`)
  }
  const unknown = draft.items.filter((i) => i.action === 'unknown')
  if (unknown.length > 0) {
    const more = unknown.length > 1 ? ` (and ${unknown.length - 1} more: see the report)` : ''
    problems.push(`cannot tell whether ${objectRef(unknown[0])} was changed: ${unknown[0].error ?? 'no answer'}${more}`)
  }
  if (waited && waited.stillThere.length > 0) {
    problems.push(`timed out after ${formatAge(waitTimeoutSeconds)} waiting for ${waited.stillThere.join(', ')} to disappear`)
  }
  if (waited && waited.failed.length > 0) problems.push(`could not wait for ${waited.failed.join('; ')}`)
  return problems.length > 0 ? problems.join('; ') : undefined
}
