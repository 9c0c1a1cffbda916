// One line of a check's message from whatever a step threw.
import {ReapError} from '../errors.js'

export function errorLine(error: unknown): string {
  const message = error instanceof ReapError || error instanceof Error ? error.message : String(error)
  return message.replace(/\s+/g, ' ').trim()
}
