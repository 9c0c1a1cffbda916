// Errors in one style: the line each kind of error becomes, and what the command_not_found hook says.
import {Errors} from '@oclif/core'
import {describe, expect, it} from 'vitest'
import {InvalidDbUrlError} from '../../src/airflow/url.js'
import {explainNotFound} from '../../src/cli/hooks/command-not-found.js'
import {FlagValueError, describeError, flagNameOnly, quoteArgument, usageHint} from '../../src/cli/usage.js'
import {ReapError, UsageError} from '../../src/errors.js'

const IDS = ['zombies', 'overdue', 'unstick', 'history', 'history:show', 'version', 'help']

describe('describeError', () => {
  it.each([
    ['a usage error', new UsageError('--yes confirms --delete'), {line: '--yes confirms --delete', exitCode: 2, usage: true}],
    ['a runtime error, on one line', new ReapError('cannot reach\n  the API'), {line: 'cannot reach the API', exitCode: 1, usage: false}],
    ['a bad flag value, whatever oclif did to its message', Object.assign(new FlagValueError('min-age', '5x', 'not a duration'), {message: 'Parsing --min-age \n\t"5x"...'}), {line: 'invalid argument "5x" for "--min-age" flag: not a duration', exitCode: 2, usage: true}],
    ['a malformed --db', new InvalidDbUrlError('--db', 'the URL is empty'), {line: 'invalid --db URL: the URL is empty', exitCode: 2, usage: true}],
    ['a malformed variable', new InvalidDbUrlError('AIRFLOW_REAP_DB', 'port is not a number'), {line: 'invalid AIRFLOW_REAP_DB URL: port is not a number', exitCode: 1, usage: false}],
    ['an unknown flag (its value never shown)', new Errors.CLIError('Nonexistent flags: --bogus, --dbx=postgresql://u:S3cret@h/d\nSee more help with --help', {exit: 2}), {line: 'unknown flags: --bogus, --dbx', exitCode: 2, usage: true}],
    ['an unexpected argument', new Errors.CLIError('Unexpected argument: extra\nSee more help with --help', {exit: 2}), {line: 'unexpected argument: "extra"', exitCode: 2, usage: true}],
    ['a value not among the options', new Errors.CLIError('Expected --output=xml to be one of: table, wide\nSee more help with --help', {exit: 2}), {line: 'invalid argument "xml" for "--output" flag: must be one of table, wide', exitCode: 2, usage: true}],
    ['an integer flag out of range', new Error('Parsing --concurrency \n\tExpected an integer greater than or equal to 1 but received: 0\nSee more help with --help'), {line: 'invalid argument "0" for "--concurrency" flag: must be an integer greater than or equal to 1', exitCode: 2, usage: true}],
    ['an integer flag given a word (kubectl\'s form, not oclif\'s)', new Error('Parsing --concurrency \n\tExpected an integer but received: abc\nSee more help with --help'), {line: 'invalid argument "abc" for "--concurrency" flag: must be an integer', exitCode: 2, usage: true}],
    ['a flag without its value', new Errors.CLIError('Flag --output expects one of these values: table, wide', {exit: 2}), {line: 'flag needs an argument: --output (one of table, wide)', exitCode: 2, usage: true}],
    ['a missing argument', new Errors.CLIError('Missing 1 required arg:\nrunId  Run id (see `history`).\nSee more help with --help', {exit: 2}), {line: 'missing required argument RUNID', exitCode: 2, usage: true}],
    ['anything else', new TypeError('x is not a function'), {line: 'x is not a function', exitCode: 1, usage: false}],
  ])('%s', (_what, error, expected) => {
    expect(describeError(error)).toEqual(expected)
  })

  it("leaves oclif's own exit requests to oclif", () => {
    expect(describeError(new Errors.ExitError(0))).toBeUndefined()
  })
})

describe('usage helpers', () => {
  it('the hint names the command as typed', () => {
    expect(usageHint('history:show')).toBe("See 'kubectl airflow-reap history show --help' for usage.")
    expect(usageHint()).toBe("See 'kubectl airflow-reap --help' for usage.")
  })
  it.each([
    ['--db=postgresql://u:pw@h/d', '--db'],
    ['-n', '-n'],
  ])('flagNameOnly(%j) = %j', (flag, name) => expect(flagNameOnly(flag)).toBe(name))
  it.each([
    ['extra', '"extra"'],
    ['postgresql://u:S3cret@h/d', 'a URL (did you mean --db URL?)'],
    ['user@host', 'a URL (did you mean --db URL?)'],
    ['a b$c', 'an argument that is not a plain word'],
  ])('quoteArgument(%j) = %j', (arg, quoted) => expect(quoteArgument(arg)).toBe(quoted))
})

describe('explainNotFound (command_not_found)', () => {
  it.each([
    [['-n', 'airflow', 'zombies'], 'flags go after the command: kubectl airflow-reap zombies -n ...', 'zombies'],
    [['--db=postgresql://u:S3cret@h/d', 'zombies'], 'flags go after the command: kubectl airflow-reap zombies --db ...', 'zombies'],
    [['-A'], '-A is a flag, and the command comes first: kubectl airflow-reap COMMAND [flags] (commands: zombies, overdue, unstick, history, version, help)', undefined],
    [['zombies', 'extra-arg'], 'unexpected argument "extra-arg" for "kubectl airflow-reap zombies"', 'zombies'],
    [['zombies', 'postgresql://u:S3cret@h/d', '-n', 'x'], 'unexpected argument a URL (did you mean --db URL?) for "kubectl airflow-reap zombies"', 'zombies'],
    [['zombie'], 'unknown command "zombie" for "kubectl airflow-reap" (commands: zombies, overdue, unstick, history, version, help)', undefined],
  ])('%j', (words, line, commandId) => {
    const report = explainNotFound(words, IDS)
    expect(report).toEqual(commandId ? {line, commandId} : {line})
    expect(report.line).not.toContain('S3cret')
  })
})
