// The one-line description of a run's task-instance source, as the table's header (stderr) and
// `history show` print it: `DB: flag via direct`, `API: https://host/prefix (v2, Airflow 3.1.2, token-cmd, 12 requests)`.
import type {SourceDescription} from '../core/report.js'

/** The label (DB, API) and what follows it. */
export function sourceParts(source: SourceDescription): {label: 'DB' | 'API'; text: string} {
  if (source.kind === 'db') return {label: 'DB', text: `${source.source} via ${source.via}`}
  const auth = source.auth === 'none' ? 'no credentials' : source.auth
  return {label: 'API', text: `${source.url} (${source.api}, Airflow ${source.airflowVersion}, ${auth}, ${source.requests} requests)`}
}

export function sourceLine(source: SourceDescription): string {
  const {label, text} = sourceParts(source)
  return `${label}: ${text}`
}
