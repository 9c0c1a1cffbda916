// `version` and `--version` answered before oclif loads: the line is oclif's `config.userAgent`
// (`NAME/VERSION PLATFORM-ARCH node-vX`, from the package.json beside the app), and loading oclif,
// its config and plugins only to print it took most of the command's time. bin/run.js asks here first
// (plain Node), and the release executable through its own small bundle (scripts/release/bundle.mjs).
// Everything else, and any case this cannot compute exactly as oclif does, goes to oclif:
// test/unit/quick-version.test.ts compares the line with oclif's for this package.
//
// Imports only Node's built-ins: it runs before anything else is loaded.
import {existsSync, readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** The command lines oclif answers with the user agent alone (the `version` command, oclif's `--version`). */
function asksForVersion(argv: readonly string[]): boolean {
  return argv.length === 1 && (argv[0] === 'version' || argv[0] === '--version')
}

/**
 * oclif names the platform `wsl` under the Windows Subsystem for Linux (wsl-utils, which also looks for
 * containers); there, and wherever it might be, oclif answers.
 */
function mayBeWsl(): boolean {
  if (os.platform() !== 'linux') return false
  if (os.release().toLowerCase().includes('microsoft')) return true
  try {
    if (readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft')) return true
  } catch {}
  return existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') || existsSync('/run/WSL')
}

/** oclif's user agent for the package at `root`, or undefined where oclif must compute it. */
export function userAgent(root: string): string | undefined {
  if (mayBeWsl()) return undefined
  const pjson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {name?: string; version?: string}
  if (!pjson.name) return undefined
  const arch = os.arch() === 'ia32' ? 'x86' : os.arch()
  return `${pjson.name}/${pjson.version || '0.0.0'} ${os.platform()}-${arch} node-${process.version}`
}

/**
 * Prints the version and returns true when `argv` asks only for it; false (nothing printed) otherwise.
 * oclif's debug output (DEBUG) is oclif's to print, so that case goes to oclif too.
 */
export function answerVersion(argv: readonly string[], root: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!asksForVersion(argv) || env.DEBUG) return false
  const line = userAgent(root)
  if (line === undefined) return false
  process.stdout.write(`${line}\n`)
  return true
}
