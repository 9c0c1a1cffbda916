// The doctor command's run, loaded only when the command runs (the Kubernetes client, the DB drivers
// and the store are the heavy part of the program).
import type {DoctorCommandOptions} from '../commands/doctor.js'
import {EXIT_RUNTIME} from '../errors.js'
import {doctorFailed} from '../doctor/report.js'
import {runDoctor} from '../doctor/run.js'
import {renderDoctor} from '../render/doctor.js'
import {createProgress} from '../reap/progress.js'
import {airflowApiOpenOptions} from '../task-source/open.js'
import {chooseTaskSource} from '../task-source/choice.js'

export async function executeDoctor(options: DoctorCommandOptions, signal: AbortSignal): Promise<void> {
  const progress = await createProgress()
  try {
    // The API's checks stand where the DB's would when the task instances come from it.
    const choice = chooseTaskSource(options.taskSource)
    const airflowApi = choice.kind === 'api' ? airflowApiOpenOptions(choice) : undefined
    const report = await runDoctor({...options, airflowApi}, {progress, signal})
    progress.stop()
    process.stdout.write(renderDoctor(report, options.output))
    // The report says what failed; the exit code only says that something did.
    if (doctorFailed(report)) process.exitCode = EXIT_RUNTIME
  } finally {
    progress.stop()
  }
}
