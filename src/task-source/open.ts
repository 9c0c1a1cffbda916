// Opening "the task-instance source" of a run from its options: the metadata DB (found and reached as
// src/cluster-db does) or the REST API (src/airflow-api). The run frame, the commands and doctor call
// this one function and get the same three things back whichever it is: the port, a description for
// reports and history, and a signal that says the source was lost mid-run. Nothing else may tell them
// apart.
import {type OpenAirflowApiOptions, openAirflowApi} from '../airflow-api/open.js'
import type {TaskInstanceSource} from '../airflow/types.js'
import {type TaskSourceChoice, type TaskSourceOptions, chooseTaskSource} from './choice.js'
import {type ClusterAccess, type ClusterConnection, openClusterDb} from '../cluster-db/index.js'
import type {SourceDescription} from '../core/report.js'

/** Requests to the Airflow API in flight at once (REST-API.md §6: polite to a shared web server). */
export const API_CONCURRENCY = 4

export interface OpenedTaskSource {
  source: TaskInstanceSource
  /** What reports and history record; read it again at the end of a run (the API's request count grows). */
  describe(): SourceDescription
  /** Aborted when the source is lost mid-run (a dropped port-forward): nothing may be acted on after it. Never for the API. */
  lost: AbortSignal
  /** Notes for the report: settings the chosen source does not read. */
  warnings: string[]
  close(): Promise<void>
}

/** What opening the API takes, from the choice (the run frame and doctor open it alike). */
export function airflowApiOpenOptions(choice: Extract<TaskSourceChoice, {kind: 'api'}>): Omit<OpenAirflowApiOptions, 'signal'> {
  const {api} = choice
  return {
    base: choice.base,
    api: api.api,
    credentials: choice.credentials,
    timeoutMs: api.timeoutSeconds * 1000,
    pageSize: api.pageSize,
    maxRequests: api.maxRequests,
    concurrency: API_CONCURRENCY,
  }
}

/** Opens the source the options choose (chooseTaskSource: usage errors first, before anything is opened). */
export async function openTaskSource(
  options: TaskSourceOptions,
  kube: ClusterAccess & ClusterConnection,
  signal: AbortSignal,
  env: NodeJS.ProcessEnv = process.env,
): Promise<OpenedTaskSource> {
  const choice = chooseTaskSource(options, env)
  if (choice.kind === 'db') {
    const cluster = await openClusterDb(choice.db, kube, signal)
    const description: SourceDescription = {kind: 'db', ...cluster.origin}
    return {
      source: cluster.db,
      describe: () => description,
      lost: cluster.lost,
      warnings: [],
      close: () => cluster.close(),
    }
  }
  const opened = await openAirflowApi({...airflowApiOpenOptions(choice), signal})
  const describe = (): SourceDescription => ({
    kind: 'api',
    url: choice.base.redacted,
    api: opened.personality.api,
    airflowVersion: opened.personality.airflowVersion,
    auth: opened.client.authHow,
    requests: opened.client.stats.requests,
  })
  const ignored = choice.ignored.length > 0 ? [`task instances come from the Airflow API: ${choice.ignored.join(', ')} not read`] : []
  return {
    source: opened.source,
    describe,
    lost: new AbortController().signal,
    warnings: ignored,
    close: () => opened.source.close(),
  }
}
