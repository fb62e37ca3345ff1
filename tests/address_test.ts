import { assertEquals } from "./helpers/assert.ts";
import { canonicalAddress, isPrivateAddress, parseIpv6 } from "../lib/policy/address.ts";

Deno.test("private destinations: every class, IPv4, IPv6 and IPv4 inside IPv6", () => {
  const blocked = [
    "127.0.0.1",
    "127.255.255.254",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "100.127.255.255",
    "0.0.0.0",
    "224.0.0.1",
    "239.255.255.250",
    "255.255.255.255",
    "240.0.0.1",
    "192.0.2.1",
    "198.18.0.1",
    "::",
    "::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "[::ffff:127.0.0.1]",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::",
    "::127.0.0.1",
    "2001:db8::1",
    "fec0::1",
    "not-an-ip",
    "1.2.3",
    "01.2.3.4",
    "1.2.3.256",
  ];
  for (const a of blocked) assertEquals(isPrivateAddress(a), true, a);
  const allowed = [
    "1.1.1.1",
    "8.8.8.8",
    "172.32.0.1",
    "100.128.0.1",
    "192.169.0.1",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "2a00:1450::1",
  ];
  for (const a of allowed) assertEquals(isPrivateAddress(a), false, a);
});

Deno.test("IPv6 parsing and canonical forms", () => {
  assertEquals(parseIpv6("::1")?.at(-1), 1);
  assertEquals(parseIpv6("1::2::3"), null);
  assertEquals(parseIpv6("1:2:3:4:5:6:7:8:9"), null);
  assertEquals(parseIpv6("12345::"), null);
  assertEquals(canonicalAddress("::ffff:7f00:1"), "127.0.0.1");
  assertEquals(canonicalAddress("[::FFFF:127.0.0.1]"), "127.0.0.1");
  assertEquals(canonicalAddress("0:0:0:0:0:0:0:1"), "0:0:0:0:0:0:0:1");
  assertEquals(canonicalAddress("::1"), "0:0:0:0:0:0:0:1");
});
