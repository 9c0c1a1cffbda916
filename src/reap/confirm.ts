// Confirmation on a terminal before a destructive action taken without --yes.
import {createInterface} from 'node:readline/promises'
import type {ReportItem} from '../core/report.js'

const SHOWN = 10

export async function confirm(items: ReportItem[], verb: string): Promise<boolean> {
  if (items.length === 0) return false
  const lines = items.slice(0, SHOWN).map((i) => `  ${i.kind.toLowerCase()}/${i.namespace}/${i.name}  (${i.reason})`)
  if (items.length > SHOWN) lines.push(`  … and ${items.length - SHOWN} more`)
  process.stderr.write(`${verb} ${items.length} object${items.length === 1 ? '' : 's'}?\n${lines.join('\n')}\n`)
  const rl = createInterface({input: process.stdin, output: process.stderr})
  try {
    const answer = await rl.question('Type "yes" to proceed: ')
    return answer.trim().toLowerCase() === 'yes'
  } finally {
    rl.close()
  }
}
