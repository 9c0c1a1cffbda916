import {Args} from '@oclif/core'
import {UsageError} from '../../errors.js'
import {runDocument} from '../../store/documents.js'
import {renderRun} from '../../render/history.js'
import type {OutputFormat} from '../../render/output.js'
import {ReapCommand} from '../../cli/base.js'
import {outputFlags, storeFlags} from '../../cli/flags.js'
import {openStoreForReading} from '../../cli/open-store.js'

export default class HistoryShow extends ReapCommand {
  static override summary = 'Show one recorded run: every finding and what was done about it.'
  static override examples = [
    {description: 'Run 42 as a table', command: 'kubectl airflow-reap history show 42'},
    {description: 'What was deleted in run 42', command: "kubectl airflow-reap history show 42 -o json | jq '.items[] | select(.action == \"deleted\")'"},
  ]

  static override args = {
    runId: Args.integer({description: 'Run id (see `history`).', required: true, min: 1}),
  }

  static override flags = {
    ...outputFlags,
    cache: storeFlags.cache,
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(HistoryShow)
    const store = openStoreForReading(flags.cache)
    const run = store?.getRun(args.runId)
    store?.close()
    if (!run) throw new UsageError(`no run ${args.runId} in the local run store (see: kubectl airflow-reap history)`)
    this.writeOut(renderRun(runDocument(run), flags.output as OutputFormat))
  }
}
