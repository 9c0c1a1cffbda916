import {Flags} from '@oclif/core'
import {runListDocument} from '../../store/documents.js'
import {renderRunList} from '../../render/history.js'
import type {OutputFormat} from '../../render/output.js'
import {ReapCommand} from '../../cli/base.js'
import {kubeFlags, outputFlags, storeFlags} from '../../cli/flags.js'
import {settleFromHistory} from '../../cli/history-settle.js'
import {openStoreForReading} from '../../cli/open-store.js'

export default class History extends ReapCommand {
  static override summary = 'List the runs recorded in the local run store.'
  static override description = 'Every run of zombies, overdue and unstick is recorded (unless --no-cache): when, where, dry run or not, and what it found and did.'
  static override examples = [
    {description: 'The last 20 runs', command: 'kubectl airflow-reap history'},
    {description: 'As JSON', command: 'kubectl airflow-reap history --limit 100 -o json'},
  ]

  static override flags = {
    ...outputFlags,
    cache: storeFlags.cache,
    // To settle what earlier runs left unknown, when that cluster can be asked (never required).
    kubeconfig: kubeFlags.kubeconfig,
    context: kubeFlags.context,
    limit: Flags.integer({description: 'Show at most this many runs (newest first).', helpValue: 'N', default: 20, min: 1}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(History)
    const store = openStoreForReading(flags.cache, (text) => this.writeWarning(text))
    if (!store) {
      this.writeOut(renderRunList(runListDocument([]), flags.output as OutputFormat))
      return
    }
    try {
      await settleFromHistory(store, {kubeconfig: flags.kubeconfig, context: flags.context}, this.abort.signal)
      this.writeOut(renderRunList(runListDocument(store.listRuns({limit: flags.limit})), flags.output as OutputFormat))
    } finally {
      store.close()
    }
  }
}
