// The `advice:` lines unstick prints on stderr after its table: one per object still stuck (a freed
// one needs none), its advisories joined, capped so a namespace of stuck Jobs does not bury the table.
import type {ReportItem} from '../core/report.js'
import {objectRef} from '../core/unstick.js'

/** At most this many objects get an `advice:` line; the rest are counted (-o wide shows them all). */
export const MAX_ADVICE_LINES = 10

export interface AdvisedFinding {
  object: {kind: string; namespace: string; name: string}
  item: Pick<ReportItem, 'action'>
  advice: readonly string[]
}

export function adviceLines(findings: readonly AdvisedFinding[], freed: readonly string[] = []): string {
  const lines: string[] = []
  const stuck = findings.filter((f) => f.advice.length > 0 && f.item.action !== 'patched' && f.item.action !== 'deleted')
  for (const finding of stuck.slice(0, MAX_ADVICE_LINES)) lines.push(`advice: ${objectRef(finding.object)}: ${finding.advice.join('; ')}`)
  if (stuck.length > MAX_ADVICE_LINES) lines.push(`advice: ${stuck.length - MAX_ADVICE_LINES} more stuck objects have advice (-o wide shows it)`)
  for (const ref of freed) lines.push(`${ref}: name is free`)
  return lines.map((l) => `${l}\n`).join('')
}
