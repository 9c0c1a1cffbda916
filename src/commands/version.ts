import {ReapCommand} from '../cli/base.js'

export default class Version extends ReapCommand {
  static override summary = 'Print the version of airflow-reap (the same as --version).'
  static override examples = [{description: 'The version, the platform and the Node.js it runs on', command: 'kubectl airflow-reap version'}]

  async run(): Promise<void> {
    await this.parse(Version)
    this.writeOut(`${this.config.userAgent}\n`)
  }
}
