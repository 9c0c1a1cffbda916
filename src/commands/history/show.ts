import {Args} from '@oclif/core'
import {ReapError, UsageError} from '../../errors.js'
import {runDocument} from '../../store/documents.js'
import {renderRun} from '../../render/history.js'
import type {OutputFormat} from '../../render/output.js'
import {ReapCommand} from '../../cli/base.js'
import {quoteArgument} from '../../cli/usage.js'
import {kubeFlags, outputFlags, storeFlags} from '../../cli/flags.js'
import {settleFromHistory} from '../../cli/history-settle.js'
import {openStoreForReading} from '../../cli/open-store.js'

export default class HistoryShow extends ReapCommand {
  static override summary = 'Show one recorded run: every finding and what was done about it.'
  static override examples = [
    {description: 'Run 42 as a table', command: 'kubectl airflow-reap history show 42'},
    {description: 'What was deleted in run 42', command: "kubectl airflow-reap history show 42 -o json | jq '.items[] | select(.action == \"deleted\")'"},
  ]

  static override args = {
    runId: Args.custom<number>({
      description: 'Run id (see `history`).',
      required: true,
      parse: async (input) => parseRunId(input),
    })(),
  }

  static override flags = {
    ...outputFlags,
    cache: storeFlags.cache,
    // To settle what earlier runs left unknown, when that cluster can be asked (never required).
    kubeconfig: kubeFlags.kubeconfig,
    context: kubeFlags.context,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(HistoryShow)
    const runId = args.runId as number // required: oclif has refused a missing one
    const store = openStoreForReading(flags.cache, (text) => this.writeWarning(text))
    let run
    try {
      if (store) await settleFromHistory(store, {kubeconfig: flags.kubeconfig, context: flags.context}, this.abort.signal)
      run = store?.getRun(runId)
    } finally {
      store?.close()
    }
    if (!run) throw new ReapError(`run ${runId} not found in the local run store (kubectl airflow-reap history lists the runs)`)
    this.writeOut(renderRun(runDocument(run), flags.output as OutputFormat))
  }
}

/** A run id is a positive integer; anything else is a usage error (exit 2), unlike an unknown id (exit 1). */
export function parseRunId(input: string): number {
  if (!/^\d+$/.test(input) || Number(input) < 1 || !Number.isSafeInteger(Number(input))) {
    throw new UsageError(`${quoteArgument(input)} is not a run id: give the number in the RUN column of kubectl airflow-reap history`)
  }
  return Number(input)
}
