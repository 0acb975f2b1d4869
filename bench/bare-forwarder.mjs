// The baseline for bench/relay-bench.mjs: a bare `ws` room forwarder speaking the same frames as
// the relay (attach → attached, post → ack + record to every room member), with no storage, no
// authorisation and no limits. What the relay costs is measured against this.
//
// Usage: node bench/bare-forwarder.mjs   (prints {"port":n} on stdout when listening)
import { WebSocketServer } from 'ws';

const rooms = new Map();
const seqs = new Map();
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, maxPayload: 64 * 1024 });

function u32(bytes, offset) {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

wss.on('connection', (ws) => {
  const joined = new Set();
  ws.send(Buffer.concat([Buffer.of(1, 0x81), Buffer.alloc(32)]));
  ws.on('message', (data) => {
    const kind = data[1];
    const requestId = data.subarray(2, 6);
    const key = data.subarray(6, 22).toString('latin1');
    if (kind === 2) {
      // attach-conversation: join the room, answer attached { lastSeq }.
      let room = rooms.get(key);
      if (!room) rooms.set(key, (room = new Set()));
      room.add(ws);
      joined.add(key);
      const out = Buffer.alloc(14);
      out[0] = 1;
      out[1] = 0x85;
      requestId.copy(out, 2);
      out.writeBigUInt64BE(BigInt(seqs.get(key) ?? 0), 6);
      ws.send(out);
    } else if (kind === 5) {
      // post: assign the next seq, ack, fan out a record frame to the whole room (sender included).
      const seq = (seqs.get(key) ?? 0) + 1;
      seqs.set(key, seq);
      const ack = Buffer.alloc(14);
      ack[0] = 1;
      ack[1] = 0x87;
      requestId.copy(ack, 2);
      ack.writeBigUInt64BE(BigInt(seq), 6);
      ws.send(ack);
      const length = u32(data, 38);
      const record = Buffer.alloc(30 + length);
      record[0] = 1;
      record[1] = 0x86;
      data.copy(record, 2, 6, 22);
      record.writeBigUInt64BE(BigInt(seq), 18);
      record.writeUInt32BE(length, 26);
      data.copy(record, 30, 42, 42 + length);
      for (const peer of rooms.get(key) ?? []) peer.send(record);
    }
  });
  ws.on('close', () => {
    for (const key of joined) rooms.get(key)?.delete(ws);
  });
});

wss.on('listening', () => process.stdout.write(`${JSON.stringify({ port: wss.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
