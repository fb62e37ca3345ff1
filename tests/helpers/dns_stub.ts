// A DNS server on loopback UDP that answers A and AAAA queries from a fixed table.
import dgram from "node:dgram";
import { Buffer } from "node:buffer";

export interface DnsStub extends AsyncDisposable {
  port: number;
  queries: string[];
}

function encodeIp(type: number, ip: string): Buffer | null {
  if (type === 1 && /^\d+\.\d+\.\d+\.\d+$/.test(ip)) return Buffer.from(ip.split(".").map(Number));
  if (type === 28 && ip.includes(":")) {
    const [head, tail = ""] = ip.split("::");
    const h = head ? head.split(":") : [];
    const t = tail ? tail.split(":") : [];
    const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
    return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
  }
  return null;
}

export async function startDnsStub(table: Record<string, string[]>): Promise<DnsStub> {
  const socket = dgram.createSocket("udp4");
  const queries: string[] = [];
  socket.on("message", (msg: Buffer, rinfo: { port: number; address: string }) => {
    let p = 12;
    const labels: string[] = [];
    while (msg[p] !== 0) {
      labels.push(msg.subarray(p + 1, p + 1 + msg[p]).toString());
      p += msg[p] + 1;
    }
    const question = msg.subarray(12, p + 5);
    const type = msg.readUInt16BE(p + 1);
    const name = labels.join(".").toLowerCase();
    queries.push(`${name}/${type}`);
    const answers = (table[name] ?? []).map((ip) => encodeIp(type, ip)).filter((b): b is Buffer =>
      b !== null
    );
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(table[name] ? 0x8180 : 0x8183, 2); // response, recursion; NXDOMAIN when unknown
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const records = answers.map((rdata) => {
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
      rr.writeUInt16BE(type, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    socket.send(Buffer.concat([header, question, ...records]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  return {
    port: socket.address().port,
    queries,
    async [Symbol.asyncDispose]() {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

/** True inside a network namespace with only loopback: tests naming other addresses run only there. */
export function isolated(): boolean {
  return Deno.networkInterfaces().every((nic) => nic.address.startsWith("127.") || nic.address === "::1");
}
