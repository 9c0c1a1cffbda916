// The small set of typed errors every layer throws. The command base class maps them to exit codes
// and to one line on stderr, in one place (src/commands/base.ts). Messages must never contain secrets.

export const EXIT_OK = 0
export const EXIT_RUNTIME = 1
export const EXIT_USAGE = 2
export const EXIT_FOUND = 3
/** 128 + the signal number, as a shell reports a process a signal ended. */
export const EXIT_SIGINT = 130
export const EXIT_SIGTERM = 143

export class ReapError extends Error {
  readonly exitCode: number = EXIT_RUNTIME
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = new.target.name
  }
}

/** Bad flags or arguments, malformed DB URL, unknown output format: the user must change the call. */
export class UsageError extends ReapError {
  override readonly exitCode = EXIT_USAGE
}

/** Kubeconfig missing or unusable, unknown context. */
export class ConfigError extends ReapError {}

/** The API server or the database could not be reached (or timed out). */
export class UnreachableError extends ReapError {}

/** The API server refused a request (RBAC 403, 401). `verb` and `resource` name what is missing. */
export class ForbiddenError extends ReapError {
  constructor(
    message: string,
    readonly verb?: string,
    readonly resource?: string,
  ) {
    super(message)
  }
}

/** An unexpected answer from the API server (a Status we cannot handle). */
export class ApiError extends ReapError {
  constructor(
    message: string,
    readonly status: number,
    readonly reason?: string,
  ) {
    super(message)
  }
}

/** The Airflow metadata DB does not have the tables/columns we need. */
export class SchemaError extends ReapError {}

/** A sanity stop refused a destructive action. */
export class SafetyStopError extends ReapError {}

/** Ctrl-C / SIGTERM during a run: exit 130 after SIGINT, 143 after SIGTERM. */
export class InterruptedError extends ReapError {
  override readonly exitCode: number
  readonly signal?: NodeJS.Signals
  constructor(message: string, options?: {cause?: unknown; signal?: NodeJS.Signals}) {
    super(message, options)
    this.signal = options?.signal
    this.exitCode = options?.signal === 'SIGTERM' ? EXIT_SIGTERM : EXIT_SIGINT
  }
}

/** The InterruptedError for an aborted run, naming the signal that aborted it: `interrupted by SIGTERM: detail`. */
export function interruption(abort: AbortSignal | undefined, detail: string): InterruptedError {
  const reason: unknown = abort?.reason
  const signal = reason instanceof InterruptedError ? reason.signal : undefined
  return new InterruptedError(`interrupted${signal ? ` by ${signal}` : ''}: ${detail}`, {signal})
}

/**
 * Why a wait ended when `abort` fired: its reason when that is one of ours (a signal's
 * InterruptedError, a dropped tunnel's TunnelLostError), else an InterruptedError saying `waitingFor`.
 */
export function abortReason(abort: AbortSignal | undefined, waitingFor: string): ReapError {
  const reason: unknown = abort?.reason
  return reason instanceof ReapError ? reason : new InterruptedError(`interrupted while ${waitingFor}`)
}

/** A network wait that went past its bound (--request-timeout, --db-timeout, an exec plugin's limit). */
export class TimeoutError extends UnreachableError {}
