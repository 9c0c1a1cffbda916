// Stand-ins for PostgreSQL servers that misbehave, for error-path tests the local trust-auth server
// cannot produce: one that asks for a password and rejects it, and one that never answers.
import type net from 'node:net'
import {listenOnLoopback} from '../faults.js'

export interface FakeServer {
  port: number
  /** Passwords clients sent (to prove a test really reached the authentication step). */
  passwords: string[]
  close(): Promise<void>
}

const SSL_REQUEST_CODE = 80877103

/**
 * Speaks just enough of the PostgreSQL wire protocol to refuse a login: declines SSL, asks for a
 * password (cleartext, or SCRAM-SHA-256 as PostgreSQL 14+ does by default), then answers with
 * SQLSTATE 28P01 as a real server does for a wrong password.
 */
export function startPasswordRejectingPostgres(options: {auth?: 'cleartext' | 'scram'} = {}): Promise<FakeServer> {
  if (options.auth === 'scram') return startScramPostgres()
  const passwords: string[] = []
  return listen(passwords, (socket) => {
    let buffer = Buffer.alloc(0)
    let startedUp = false
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      for (;;) {
        const headerLength = startedUp ? 5 : 4
        if (buffer.length < headerLength) return
        const length = startedUp ? buffer.readInt32BE(1) + 1 : buffer.readInt32BE(0)
        if (buffer.length < length) return
        const message = buffer.subarray(0, length)
        buffer = buffer.subarray(length)
        if (!startedUp) {
          if (message.readInt32BE(4) === SSL_REQUEST_CODE) {
            socket.write('N')
            continue
          }
          startedUp = true
          socket.write(authenticationCleartextPassword())
        } else if (message[0] === 0x70 /* 'p' */) {
          passwords.push(message.subarray(5, message.length - 1).toString('utf8'))
          socket.end(errorResponse('28P01', 'password authentication failed for user "reap"'))
          return
        }
      }
    })
  })
}

/**
 * Asks for SCRAM-SHA-256 (AuthenticationSASL), answers the client-first message with a server-first
 * one (AuthenticationSASLContinue), and refuses whatever proof comes next with 28P01. A client
 * without a password gives up at the server-first message, as pg does against a real server.
 */
function startScramPostgres(): Promise<FakeServer> {
  return listen([], (socket) => {
    let buffer = Buffer.alloc(0)
    let startedUp = false
    let saslStarted = false
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      for (;;) {
        const headerLength = startedUp ? 5 : 4
        if (buffer.length < headerLength) return
        const length = startedUp ? buffer.readInt32BE(1) + 1 : buffer.readInt32BE(0)
        if (buffer.length < length) return
        const message = buffer.subarray(0, length)
        buffer = buffer.subarray(length)
        if (!startedUp) {
          if (message.readInt32BE(4) === SSL_REQUEST_CODE) {
            socket.write('N')
            continue
          }
          startedUp = true
          socket.write(authentication(10, Buffer.from('SCRAM-SHA-256\0\0')))
        } else if (message[0] === 0x70 /* 'p' */ && !saslStarted) {
          saslStarted = true
          const clientFirst = message.subarray(5).toString('utf8')
          const nonce = /r=([^,\0]+)/.exec(clientFirst)?.[1] ?? ''
          socket.write(authentication(11, Buffer.from(`r=${nonce}fakeServerNonce,s=${Buffer.from('salt').toString('base64')},i=4096`)))
        } else if (message[0] === 0x70) {
          socket.end(errorResponse('28P01', 'password authentication failed for user "reap"'))
          return
        }
      }
    })
  })
}

/** AuthenticationRequest ('R') with its code (10 SASL, 11 SASLContinue) and payload. */
function authentication(code: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9)
  header.write('R', 0)
  header.writeInt32BE(8 + payload.length, 1)
  header.writeInt32BE(code, 5)
  return Buffer.concat([header, payload])
}

/** Accepts connections and never says a word: the client's connect timeout must fire. */
export function startSilentServer(): Promise<FakeServer> {
  return listen([], () => undefined)
}

function listen(passwords: string[], onConnection: (socket: net.Socket) => void): Promise<FakeServer> {
  return listenOnLoopback(onConnection).then((server) => ({...server, passwords}))
}

function authenticationCleartextPassword(): Buffer {
  const message = Buffer.alloc(9)
  message.write('R', 0)
  message.writeInt32BE(8, 1)
  message.writeInt32BE(3, 5)
  return message
}

function errorResponse(code: string, text: string): Buffer {
  const fields = Buffer.concat([field('S', 'FATAL'), field('V', 'FATAL'), field('C', code), field('M', text), Buffer.from([0])])
  const header = Buffer.alloc(5)
  header.write('E', 0)
  header.writeInt32BE(fields.length + 4, 1)
  return Buffer.concat([header, fields])
}

function field(type: string, value: string): Buffer {
  return Buffer.concat([Buffer.from(type), Buffer.from(value, 'utf8'), Buffer.from([0])])
}
