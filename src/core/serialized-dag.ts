// The overdue verdict on one try, pure: how long it has run against its execution_timeout.

export interface OverdueVerdict {
  overdue: boolean
  runningSeconds: number
  overBySeconds: number
}

/** now − start of this try > execution_timeout + grace. All times from the DB's clock. */
export function judgeOverdue(startDate: Date, timeoutSeconds: number, graceSeconds: number, dbNow: Date): OverdueVerdict {
  const runningSeconds = Math.floor((dbNow.getTime() - startDate.getTime()) / 1000)
  const overBySeconds = runningSeconds - timeoutSeconds
  return {overdue: overBySeconds > graceSeconds, runningSeconds, overBySeconds}
}
