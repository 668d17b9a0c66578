// A loopback-only Helia 7 peer driven by line-delimited JSON on stdin/stdout.
// See README.md in this directory for the protocol. Node >= 22
// (scripts/setup-helia.sh prints the node binary to use).
//
// Usage: node peer.mjs [--dht-protocol /ipfs/lan/kad/1.0.0] [--dht-mode server|client]
//                      [--listen /ip4/127.0.0.1/tcp/0]
//
// SAFETY: the node is built explicitly (no createHelia()/libp2pDefaults(), which
// bring public bootstrap peers, mDNS, UPnP, AutoNAT, autoTLS, relays, delegated
// HTTP routing and HTTP gateways). TCP on 127.0.0.1 only, no peer discovery, a
// connection gater that denies any address outside 127.0.0.0/8, and bitswap as
// the only block broker. It also refuses to start outside a network namespace
// whose only interface is `lo` (unshare --net sh -c 'ip link set lo up; ...').
//
// stdout carries protocol lines only; all logging goes to stderr.

import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream, readFileSync } from 'node:fs'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { withBitswap } from '@helia/bitswap'
import { withLibp2pLight } from '@helia/libp2p'
import { unixfs } from '@helia/unixfs'
import { gossipsub } from '@libp2p/gossipsub'
import { identify, identifyPush } from '@libp2p/identify'
import { kadDHT } from '@libp2p/kad-dht'
import { peerIdFromCID } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createHeliaLight } from 'helia'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { CID } from 'multiformats/cid'

// Keep stdout for protocol lines only.
const stdoutWrite = process.stdout.write.bind(process.stdout)
console.log = console.info = console.debug = (...a) => console.error(...a)
const log = (...a) => console.error('[helia-peer]', ...a)
const send = (obj) => stdoutWrite(JSON.stringify(obj) + '\n')

// ------------------------------------------------------------------ args
function parseArgs (argv) {
  const o = { dhtProtocol: '/ipfs/lan/kad/1.0.0', dhtMode: 'server', listen: '/ip4/127.0.0.1/tcp/0' }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const v = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i] }
    if (a === '--dht-protocol') o.dhtProtocol = v()
    else if (a === '--dht-mode') o.dhtMode = v()
    else if (a === '--listen') o.listen = v()
    else throw new Error(`unknown argument ${a}`)
  }
  if (!['server', 'client'].includes(o.dhtMode)) throw new Error('--dht-mode must be server or client')
  if (!/^\/ip4\/127\.\d+\.\d+\.\d+\/tcp\/\d+$/.test(o.listen)) throw new Error('--listen must be /ip4/127.x.x.x/tcp/N')
  return o
}

// ------------------------------------------------------------------ loopback only
function inLoopbackOnlyNetns () {
  try {
    const ifaces = readFileSync('/proc/self/net/dev', 'utf8').split('\n').slice(2)
      .filter(l => l.includes(':')).map(l => l.split(':')[0].trim())
    return ifaces.length === 1 && ifaces[0] === 'lo'
  } catch { return false }
}

/** true if the multiaddr's first component is an IPv4 address in 127.0.0.0/8 */
function isLoopback (ma) {
  try {
    const c = ma.getComponents()[0]
    return c != null && c.name === 'ip4' && /^127\.\d+\.\d+\.\d+$/.test(c.value)
  } catch { return false }
}
const remoteOf = (maConn) => maConn?.remoteAddr
const loopbackGater = {
  denyDialMultiaddr: async (ma) => !isLoopback(ma),
  denyInboundConnection: async (maConn) => !isLoopback(remoteOf(maConn)),
  denyOutboundConnection: async (_peer, maConn) => !isLoopback(remoteOf(maConn)),
  denyInboundEncryptedConnection: async (_peer, maConn) => !isLoopback(remoteOf(maConn)),
  denyOutboundEncryptedConnection: async (_peer, maConn) => !isLoopback(remoteOf(maConn)),
  denyInboundUpgradedConnection: async (_peer, maConn) => !isLoopback(remoteOf(maConn)),
  denyOutboundUpgradedConnection: async (_peer, maConn) => !isLoopback(remoteOf(maConn)),
  denyInboundRelayReservation: async () => true,
  denyOutboundRelayedConnection: async () => true,
  denyInboundRelayedConnection: async () => true,
  filterMultiaddrForPeer: async (_peer, ma) => isLoopback(ma)
}
/** kad-dht peerInfoMapper: keep only loopback addresses (the default drops them) */
const loopbackOnlyMapper = (info) => ({ ...info, multiaddrs: info.multiaddrs.filter(isLoopback) })

// ------------------------------------------------------------------ Kubo's `ipfs add` defaults
const KUBO_IMPORTER = {
  cidVersion: 0,
  rawLeaves: false,
  leafType: 'file',
  reduceSingleLeafToSelf: true,
  chunker: fixedSize({ chunkSize: 262144 }),
  layout: balanced({ maxChildrenPerNode: 174 })
}

// ------------------------------------------------------------------ node
async function createNode (opts) {
  const helia = createHeliaLight({ blockBrokers: [], routers: [] })
  withLibp2pLight(helia, {
    addresses: { listen: [opts.listen], announce: [], appendAnnounce: [], noAnnounce: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: [],
    connectionGater: loopbackGater,
    services: {
      identify: identify(),
      identifyPush: identifyPush(),
      ping: ping(),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: false, emitSelf: false }),
      dht: kadDHT({
        protocol: opts.dhtProtocol,
        clientMode: opts.dhtMode === 'client',
        peerInfoMapper: loopbackOnlyMapper,
        allowQueryWithZeroPeers: true
      })
    }
  })
  withBitswap(helia)
  await helia.start()
  return helia
}

// ------------------------------------------------------------------ helpers
const sleep = (ms) => new Promise(resolve => setTimeout(resolve, ms))
function need (req, key, type = 'string') {
  const v = req[key]
  if (typeof v !== type) throw new Error(`missing or bad "${key}" (${type} expected)`)
  return v
}
const timeoutOf = (req, dflt) => (typeof req.timeout_ms === 'number' ? req.timeout_ms : dflt)

async function addStream (fs, source, kubo) {
  const cid = kubo ? await fs.addByteStream(source, KUBO_IMPORTER) : await fs.addByteStream(source)
  return cid.toString()
}

/** Helia routing returns peer ids as CIDs (libp2p-key); print them as 12D3Koo…/Qm… */
function toPeerIdString (id) {
  try { return peerIdFromCID(id).toString() } catch { return String(id) }
}

async function * bytesOnce (buf) { if (buf.length > 0) yield buf }

// ------------------------------------------------------------------ main
async function main () {
  const opts = parseArgs(process.argv.slice(2))
  if (!inLoopbackOnlyNetns()) {
    log('refusing to start outside a loopback-only network namespace ' +
      "(run under: unshare --net sh -c 'ip link set lo up; ...')")
    process.exit(2)
  }
  const t0 = performance.now()
  const helia = await createNode(opts)
  const libp2p = helia.libp2p
  const fs = unixfs(helia)
  const pubsub = libp2p.services.pubsub
  const dht = libp2p.services.dht

  pubsub.addEventListener('message', (evt) => {
    const m = evt.detail
    send({
      event: 'message',
      topic: m.topic,
      from: m.from?.toString() ?? null,
      seqno: m.sequenceNumber != null ? m.sequenceNumber.toString() : null,
      data_b64: Buffer.from(m.data).toString('base64')
    })
  })
  libp2p.addEventListener('peer:connect', (evt) => send({ event: 'peer:connect', peerId: evt.detail.toString() }))
  libp2p.addEventListener('peer:disconnect', (evt) => send({ event: 'peer:disconnect', peerId: evt.detail.toString() }))

  let stopping = false
  async function shutdown (code) {
    if (stopping) return
    stopping = true
    try { await Promise.race([helia.stop(), sleep(5000)]) } catch (err) { log('stop failed:', err) }
    process.exit(code)
  }

  const handlers = {
    async ping () { return {} },

    async id () {
      return {
        peerId: libp2p.peerId.toString(),
        addrs: libp2p.getMultiaddrs().map(String),
        protocols: libp2p.getProtocols(),
        dhtMode: dht.getMode()
      }
    },

    async connect (req) {
      const ma = multiaddr(need(req, 'addr'))
      if (!isLoopback(ma)) throw new Error('only /ip4/127.x.x.x addresses may be dialled')
      const timeout = timeoutOf(req, 10000)
      const deadline = Date.now() + timeout
      const conn = await libp2p.dial(ma, { signal: AbortSignal.timeout(timeout) })
      // wait (briefly) for identify, so the peer's protocols (bitswap, kad,
      // meshsub) are known when we answer
      let protocols = []
      const idDeadline = Math.min(deadline, Date.now() + 3000)
      while (Date.now() < idDeadline) {
        try { protocols = (await libp2p.peerStore.get(conn.remotePeer)).protocols } catch {}
        if (protocols.length > 0) break
        await sleep(25)
      }
      return { peerId: conn.remotePeer.toString(), remoteAddr: conn.remoteAddr.toString(), protocols }
    },

    /** what the connection gater says about an address (dials nothing) */
    async gater_check (req) {
      const ma = multiaddr(need(req, 'addr'))
      return { denyDial: await loopbackGater.denyDialMultiaddr(ma), peerStoreFilterAllows: await loopbackGater.filterMultiaddrForPeer(null, ma) }
    },

    async disconnect (req) {
      const ma = multiaddr(need(req, 'addr'))
      await libp2p.hangUp(ma)
      return {}
    },

    async peers () {
      const conns = libp2p.getConnections()
      return { peers: conns.map(c => ({ peerId: c.remotePeer.toString(), addr: c.remoteAddr.toString(), direction: c.direction })) }
    },

    async add (req) {
      const path = need(req, 'path')
      const t = performance.now()
      const cid = await addStream(fs, createReadStream(path, { highWaterMark: 1 << 20 }), req.kubo === true)
      return { cid, ms: Math.round(performance.now() - t) }
    },

    async add_bytes (req) {
      const buf = Buffer.from(need(req, 'base64'), 'base64')
      const cid = await addStream(fs, bytesOnce(new Uint8Array(buf)), req.kubo === true)
      return { cid, size: buf.length }
    },

    async cat (req) {
      const cid = CID.parse(need(req, 'cid'))
      const out = need(req, 'out_path')
      const signal = AbortSignal.timeout(timeoutOf(req, 60000))
      const t = performance.now()
      const hash = createHash('sha256')
      const ws = createWriteStream(out)
      let n = 0
      try {
        for await (const chunk of fs.cat(cid, { signal })) {
          hash.update(chunk)
          n += chunk.length
          if (!ws.write(chunk)) await once(ws, 'drain')
        }
      } catch (err) {
        log(`cat ${cid} failed after ${Math.round(performance.now() - t)} ms (${n} bytes; timeout signal aborted: ${signal.aborted}):`, err)
        throw err
      } finally {
        ws.end()
        await once(ws, 'close')
      }
      return { bytes: n, sha256: hash.digest('hex'), ms: Math.round(performance.now() - t) }
    },

    async has_block (req) {
      const cid = CID.parse(need(req, 'cid'))
      return { has: await helia.blockstore.has(cid) }
    },

    async subscribe (req) {
      const topic = need(req, 'topic')
      pubsub.subscribe(topic)
      return { topics: pubsub.getTopics() }
    },

    async unsubscribe (req) {
      pubsub.unsubscribe(need(req, 'topic'))
      return { topics: pubsub.getTopics() }
    },

    async topic_peers (req) {
      const topic = need(req, 'topic')
      return { peers: pubsub.getSubscribers(topic).map(String), mesh: pubsub.getMeshPeers(topic).map(String) }
    },

    async publish (req) {
      const topic = need(req, 'topic')
      const data = new Uint8Array(Buffer.from(need(req, 'data_b64'), 'base64'))
      const deadline = Date.now() + timeoutOf(req, 10000)
      while (pubsub.getSubscribers(topic).length === 0) {
        if (Date.now() > deadline) throw new Error(`no peer subscribed to ${topic} before timeout`)
        await sleep(50)
      }
      const res = await pubsub.publish(topic, data)
      return { recipients: (res?.recipients ?? []).map(String) }
    },

    async provide (req) {
      const cid = CID.parse(need(req, 'cid'))
      const t = performance.now()
      await helia.routing.provide(cid, { signal: AbortSignal.timeout(timeoutOf(req, 30000)) })
      return { ms: Math.round(performance.now() - t) }
    },

    async find_providers (req) {
      const cid = CID.parse(need(req, 'cid'))
      const max = typeof req.max === 'number' ? req.max : Infinity
      const ctl = new AbortController()
      const timer = setTimeout(() => ctl.abort(), timeoutOf(req, 10000))
      const found = new Map()
      try {
        for await (const p of helia.routing.findProviders(cid, { signal: ctl.signal })) {
          const peerId = toPeerIdString(p.id)
          const addrs = new Set([...(found.get(peerId)?.addrs ?? []), ...(p.multiaddrs ?? []).map(String)])
          found.set(peerId, { peerId, addrs: [...addrs] })
          if (found.size >= max) break
        }
      } catch (err) {
        if (!ctl.signal.aborted) throw err
      } finally {
        clearTimeout(timer)
      }
      return { providers: [...found.values()] }
    },

    async routing_table () {
      const rt = dht.routingTable
      const peers = []
      try { for (const c of rt.kb?.toIterable?.() ?? []) peers.push(c.peerId.toString()) } catch {}
      return { size: rt.size, peers }
    },

    async stop () {
      setImmediate(() => { void shutdown(0) })
      return {}
    }
  }

  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
  rl.on('line', (line) => {
    if (line.trim() === '') return
    let req
    try {
      req = JSON.parse(line)
    } catch (err) {
      send({ id: null, ok: false, error: `bad JSON: ${err.message}` })
      return
    }
    const id = req?.id ?? null
    const h = handlers[req?.cmd]
    if (h == null) {
      send({ id, ok: false, error: `unknown cmd ${JSON.stringify(req?.cmd)}` })
      return
    }
    Promise.resolve().then(() => h(req)).then(
      (res) => send({ id, ok: true, ...res }),
      (err) => send({ id, ok: false, error: String(err?.message ?? err) })
    )
  })
  rl.on('close', () => { void shutdown(0) })
  process.on('SIGTERM', () => { void shutdown(0) })
  process.on('SIGINT', () => { void shutdown(0) })

  send({
    event: 'ready',
    peerId: libp2p.peerId.toString(),
    addrs: libp2p.getMultiaddrs().map(String),
    dhtProtocol: opts.dhtProtocol,
    startMs: Math.round(performance.now() - t0)
  })
}

process.on('unhandledRejection', (err) => log('unhandled rejection:', err))
process.on('uncaughtException', (err) => log('uncaught exception:', err))

main().catch((err) => {
  log('fatal:', err)
  send({ event: 'fatal', error: String(err?.message ?? err) })
  process.exit(1)
})
