import { assertEquals, assertMatch } from "./helpers/assert.ts";
import { compileRule, decide, sortRules } from "../lib/policy/decide.ts";
import { hostMatches, parseHostPattern } from "../lib/policy/host.ts";
import { compilePathGlob } from "../lib/policy/path.ts";
import { parseDuration } from "../lib/policy/duration.ts";
import type { RuleRecord } from "../lib/state/store.ts";

function rule(host: string, extra: Partial<RuleRecord> = {}): RuleRecord {
  return { id: host, client: "c", host, paths: [], methods: [], ports: [443, 80], createdAt: "", ...extra };
}

Deno.test("host patterns: exact, wildcard subdomains only, normalized", () => {
  const table: [string, string, boolean][] = [
    ["api.example.com", "api.example.com", true],
    ["api.example.com", "API.example.com.", false], // the caller normalizes; the matcher is exact
    ["*.example.com", "a.example.com", true],
    ["*.example.com", "a.b.example.com", true],
    ["*.example.com", "example.com", false],
    ["*.example.com", "evilexample.com", false],
    ["*.example.com", "example.com.evil.net", false],
    ["api.example.com", "api.example.com.evil.net", false],
  ];
  for (const [pattern, host, want] of table) {
    assertEquals(hostMatches(pattern, host), want, `${pattern} vs ${host}`);
  }
  assertEquals(parseHostPattern("API.Example.COM."), "api.example.com");
  assertEquals(parseHostPattern("[::1]"), "::1");
  for (const bad of ["*", "*.", "a.*.com", "*example.com", "exa mple.com", "", "-a.com", "a..com"]) {
    let threw = false;
    try {
      parseHostPattern(bad);
    } catch {
      threw = true;
    }
    assertEquals(threw, true, `${bad} should be rejected`);
  }
});

Deno.test("path globs: * within a segment, ** across", () => {
  const table: [string, string, boolean][] = [
    ["/v1/*", "/v1/models", true],
    ["/v1/*", "/v1/models/x", false],
    ["/v1/**", "/v1/models/x", true],
    ["/v1/**", "/v2/models", false],
    ["/exact", "/exact", true],
    ["/exact", "/exact/", false],
    ["/a.b", "/aXb", false],
    ["/repos/*/*.git/**", "/repos/org/app.git/info/refs", true],
  ];
  for (const [glob, path, want] of table) {
    assertEquals(compilePathGlob(glob).test(path), want, `${glob} vs ${path}`);
  }
});

Deno.test("decisions carry the narrowest reason", () => {
  const now = 1_000_000;
  const rules = sortRules([
    rule("api.example.com", { paths: ["/v1/**"], methods: ["POST"], secret: "s" }),
    rule("*.example.com", { ports: [8443] }),
    rule("old.example.org", { expiresAt: now - 1 }),
  ].map(compileRule));
  const table: [Record<string, unknown>, string][] = [
    [{ host: "api.example.com", port: 443, method: "POST", path: "/v1/chat" }, "allow"],
    [{ host: "api.example.com", port: 443, method: "GET", path: "/v1/chat" }, "method-not-allowed"],
    [{ host: "api.example.com", port: 443, method: "POST", path: "/admin" }, "path-not-allowed"],
    [{ host: "api.example.com", port: 443 }, "allow"], // a tunnel is decided on host and port only
    [{ host: "www.example.com", port: 443 }, "port-not-allowed"],
    [{ host: "www.example.com", port: 8443 }, "allow"],
    [{ host: "old.example.org", port: 443 }, "rule-expired"],
    [{ host: "nope.example.net", port: 443 }, "host-not-allowed"],
  ];
  for (const [facts, want] of table) {
    const d = decide(rules, { now, ...facts } as never);
    assertEquals(d.allow ? "allow" : d.reason, want, JSON.stringify(facts));
  }
  const d = decide(rules, { now, host: "api.example.com", port: 443, method: "POST", path: "/v1/x" });
  assertEquals(d.allow && d.rule.record.secret, "s");
});

Deno.test("durations", () => {
  assertEquals(parseDuration("90s"), 90_000);
  assertEquals(parseDuration("1h30m"), 5_400_000);
  assertEquals(parseDuration("7d"), 604_800_000);
  for (const bad of ["", "5", "1x", "h", "0s", "1h 2m"]) {
    try {
      parseDuration(bad);
      throw new Error(`accepted ${bad}`);
    } catch (err) {
      assertMatch((err as Error).message, /Invalid duration/);
    }
  }
});
