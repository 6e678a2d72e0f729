// SPDX-License-Identifier: GPL-2.0-or-later
// Maps one port with a UPnP client library from npm, as the applications
// that embed it do (discovery over SSDP included), holds it HOLD seconds,
// removes it, and exits. Prints "mapped PORT" or "error MESSAGE".
//
// usage: node npm_map.mjs LIBRARY tcp|udp EXTERNAL_PORT LOCAL_IP LOCAL_PORT HOLD DESCRIPTION
// LIBRARY: nat-upnp, nat-api or @achingbrain/nat-port-mapper
import { createRequire } from 'node:module'
import { setTimeout as sleep } from 'node:timers/promises'

const require = createRequire(import.meta.url)
const TIMEOUT_MS = 15000 // discovery and the mapping, bounded

const [library, proto, external, localIp, localPort, hold, description] = process.argv.slice(2)
if (!description) {
  console.error('usage: node npm_map.mjs LIBRARY tcp|udp EXTERNAL_PORT LOCAL_IP LOCAL_PORT HOLD DESCRIPTION')
  process.exit(2)
}
const PROTO = proto.toUpperCase()

// Node-style callback to promise, bounded in time.
function call (fn) {
  return Promise.race([
    new Promise((resolve, reject) => fn((err, value) => err ? reject(err) : resolve(value))),
    sleep(TIMEOUT_MS).then(() => { throw new Error(`no answer within ${TIMEOUT_MS} ms`) })
  ])
}

const clients = {
  // IGD:1 only; sends NewRemoteHost "undefined" when none is given
  'nat-upnp': async () => {
    const client = require('nat-upnp').createClient()
    await call(cb => client.portMapping({
      public: Number(external), private: { host: localIp, port: Number(localPort) },
      protocol: PROTO, ttl: 600, description
    }, cb))
    console.log(`mapped ${external}`)
    await sleep(Number(hold) * 1000)
    await call(cb => client.portUnmapping({ public: Number(external), protocol: PROTO }, cb))
    client.close()
  },
  // WebTorrent's: UPnP here (NAT-PMP off), renewing on its own
  'nat-api': async () => {
    const NatAPI = require('nat-api')
    const client = new NatAPI({ ttl: 1200, enablePMP: false, description })
    await call(cb => client.map({
      publicPort: Number(external), privatePort: Number(localPort), protocol: PROTO
    }, cb))
    console.log(`mapped ${external}`)
    await sleep(Number(hold) * 1000)
    await call(cb => client.unmap({
      publicPort: Number(external), privatePort: Number(localPort), protocol: PROTO
    }, cb))
    await call(cb => client.destroy(cb))
  },
  // libp2p's, promise-based
  '@achingbrain/nat-port-mapper': async () => {
    const { upnpNat } = await import('@achingbrain/nat-port-mapper')
    const client = upnpNat({ description, ttl: 600, autoRefresh: false })
    for await (const gateway of client.findGateways({ signal: AbortSignal.timeout(TIMEOUT_MS) })) {
      // A gateway found over IPv6 would take AddPinhole, which this
      // version sends to WANIPConnection:2 (a client bug: 401 Invalid Action)
      if (gateway.family !== 'IPv4') continue
      const mapping = await gateway.map(Number(localPort), localIp, {
        protocol: proto, externalPort: Number(external), signal: AbortSignal.timeout(TIMEOUT_MS)
      })
      console.log(`mapped ${mapping.externalPort}`)
      await sleep(Number(hold) * 1000)
      await gateway.unmap(Number(localPort), { signal: AbortSignal.timeout(TIMEOUT_MS) })
      await gateway.stop()
      return
    }
    throw new Error('no gateway found')
  }
}

if (!clients[library]) {
  console.error(`unknown library ${library}`)
  process.exit(2)
}
try {
  await clients[library]()
  process.exit(0)
} catch (err) {
  console.log(`error ${err.message}`)
  process.exit(1)
}
