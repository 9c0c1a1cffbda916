// Confirmation on a terminal before a destructive action taken without --yes.
import {createInterface} from 'node:readline/promises'
import type {ReportItem} from '../core/report.js'
import {InterruptedError} from '../errors.js'

const SHOWN = 10

/**
 * Asks on stderr and reads the answer from stdin. The caller clears the spinner first (it would redraw
 * over the question). A signal (`signal` aborted) ends the question at once with its InterruptedError.
 */
export async function confirm(items: ReportItem[], verb: string, signal?: AbortSignal): Promise<boolean> {
  if (items.length === 0) return false
  const lines = items.slice(0, SHOWN).map((i) => `  ${i.kind.toLowerCase()}/${i.namespace}/${i.name}  (${i.reason})`)
  if (items.length > SHOWN) lines.push(`  … and ${items.length - SHOWN} more`)
  process.stderr.write(`${verb} ${items.length} object${items.length === 1 ? '' : 's'}?\n${lines.join('\n')}\n`)
  const rl = createInterface({input: process.stdin, output: process.stderr})
  // On a terminal readline reads Ctrl-C as a key (raw mode) and, with no listener, only pauses: the
  // question would wait for ever. Sent to the process instead, it ends the run as Ctrl-C does anywhere.
  rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'))
  try {
    // End of input (Ctrl-D) is a no, whatever the Node version does with a question left open.
    const closed = new Promise<string>((resolve) => rl.once('close', () => resolve('')))
    const answer = await Promise.race([rl.question('Type "yes" to proceed: ', {signal}), closed])
    return answer.trim().toLowerCase() === 'yes'
  } catch (error) {
    if (signal?.aborted) throw signal.reason instanceof InterruptedError ? signal.reason : new InterruptedError('interrupted at the confirmation')
    throw error
  } finally {
    rl.close()
  }
}
