import type { RuleRecord } from "../state/store.ts";
import { hostMatches } from "./host.ts";
import { compilePathGlob } from "./path.ts";

export type DenyReason =
  | "host-not-allowed"
  | "port-not-allowed"
  | "path-not-allowed"
  | "method-not-allowed"
  | "rule-expired";

/** A rule compiled for matching: the stored record plus its path matchers. */
export interface CompiledRule {
  record: RuleRecord;
  paths: RegExp[];
  methods: Set<string>;
}

export type Decision =
  | { allow: true; rule: CompiledRule }
  | { allow: false; reason: DenyReason };

export interface RequestFacts {
  host: string;
  port: number;
  method?: string;
  path?: string;
  now: number;
}

export function compileRule(record: RuleRecord): CompiledRule {
  return {
    record,
    paths: record.paths.map(compilePathGlob),
    methods: new Set(record.methods.map((m) => m.toUpperCase())),
  };
}

/** Exact hosts before wildcards, narrower rules before wider, then rules with a secret, then opt-ins to private addresses. */
function specificity(rule: CompiledRule): number {
  const r = rule.record;
  return (r.host.startsWith("*.") ? 0 : 16) + (r.paths.length ? 8 : 0) + (rule.methods.size ? 4 : 0) +
    (r.secret ? 2 : 0) + (r.allowPrivate ? 1 : 0);
}

export function sortRules(rules: CompiledRule[]): CompiledRule[] {
  return [...rules].sort((a, b) => specificity(b) - specificity(a));
}

/** Denial reasons from the widest check to the narrowest: the narrowest that failed is reported. */
const RANK: DenyReason[] = [
  "host-not-allowed",
  "rule-expired",
  "port-not-allowed",
  "path-not-allowed",
  "method-not-allowed",
];

/**
 * Decides a tunnel (no method or path) or a request against one client's rules,
 * which must already be sorted. The reason names the narrowest check that failed.
 */
export function decide(rules: CompiledRule[], facts: RequestFacts): Decision {
  let reason: DenyReason = "host-not-allowed";
  const worse = (r: DenyReason) => {
    if (RANK.indexOf(r) > RANK.indexOf(reason)) reason = r;
  };
  for (const rule of rules) {
    const r = rule.record;
    if (!hostMatches(r.host, facts.host)) continue;
    if (r.expiresAt !== undefined && r.expiresAt <= facts.now) {
      worse("rule-expired");
      continue;
    }
    if (!r.ports.includes(facts.port)) {
      worse("port-not-allowed");
      continue;
    }
    if (facts.path !== undefined && rule.paths.length && !rule.paths.some((p) => p.test(facts.path!))) {
      worse("path-not-allowed");
      continue;
    }
    if (facts.method !== undefined && rule.methods.size && !rule.methods.has(facts.method)) {
      worse("method-not-allowed");
      continue;
    }
    return { allow: true, rule };
  }
  return { allow: false, reason };
}
