import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditRecord, AuditSink } from './core/audit.js';
import type { CodeProvider, Counters, KeyValueStore } from './core/ports.js';

/** The spend caps, by the limit their audit events name (core/send-code.ts). */
const SEND_CAPS: Readonly<Record<string, string>> = {
  sends_per_phone_per_hour: 'phone',
  sends_per_hour_total: 'total',
};

/**
 * Prometheus metrics for `GET /metrics`. Labels name kinds, outcomes and reasons only: never a user
 * id, a phone number or a code. Security counters are fed by the audit log (one source of truth);
 * latencies by thin wrappers around the ports.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly codesSent = new Counter({
    name: 'phonegate_codes_sent_total',
    help: 'Codes asked of Bandwidth, by delivery and outcome',
    labelNames: ['delivery', 'outcome'],
    registers: [this.registry],
  });
  private readonly verifies = new Counter({
    name: 'phonegate_verifies_total',
    help: 'Code submissions, by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly approvals = new Counter({
    name: 'phonegate_approvals_total',
    help: 'Approval requests and their steps, by outcome (requested, approval, approved, denied, expired, cancelled, ended, break_glass)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly lockouts = new Counter({
    name: 'phonegate_lockouts_total',
    help: 'Users locked after too many wrong codes',
    registers: [this.registry],
  });
  private readonly refusals = new Counter({
    name: 'phonegate_refusals_total',
    help: 'Requests refused, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly sendCaps = new Counter({
    name: 'phonegate_send_caps_reached_total',
    help: 'Sends refused by a spend cap: phone (max_sends_per_phone_per_hour) or total (max_sends_per_hour_total)',
    labelNames: ['cap'],
    registers: [this.registry],
  });
  private readonly replays = new Counter({
    name: 'phonegate_replays_dropped_total',
    help: 'Signed requests seen before and ignored, by kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly bandwidth = new Histogram({
    name: 'phonegate_bandwidth_seconds',
    help: 'Bandwidth MFA calls, by operation and outcome',
    labelNames: ['operation', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly store = new Histogram({
    name: 'phonegate_store_seconds',
    help: 'Store calls, by operation and outcome',
    labelNames: ['operation', 'outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  private readonly ack = new Histogram({
    name: 'phonegate_slack_ack_seconds',
    help: 'Time from a Slack request reaching the app to its acknowledgement, by kind',
    labelNames: ['kind'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3],
    registers: [this.registry],
  });

  constructor(socketConnections: () => number) {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    new Gauge({
      name: 'phonegate_socket_mode_connections',
      help: 'Open Socket Mode connections (0 in HTTP mode)',
      registers,
      collect() {
        this.set(socketConnections());
      },
    });
  }

  /** GET /metrics, in Prometheus' text format. */
  readonly handler = (_req: IncomingMessage, res: ServerResponse): void => {
    this.registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  };

  /** The audit log's sink that counts security events. */
  readonly auditSink: AuditSink = (record: AuditRecord) => {
    const detail = record.detail ?? {};
    switch (record.event) {
      case 'authn_otp_sent':
      case 'authn_otp_send_failed':
        this.codesSent.inc({ delivery: String(detail.delivery ?? 'unknown'), outcome: record.outcome });
        break;
      case 'authn_login_success':
      case 'authn_login_successafterfail':
        this.verifies.inc({ outcome: 'success' });
        break;
      case 'authn_login_fail':
      case 'authn_login_fail_max':
        // failure: a wrong code; error: Bandwidth failed; refused: a rule said no before or after the check.
        this.verifies.inc({ outcome: record.outcome === 'failure' ? 'wrong_code' : record.outcome });
        if (record.outcome === 'refused') this.refusals.inc({ reason: String(detail.reason ?? 'unknown') });
        break;
      case 'authn_login_lock':
        this.lockouts.inc();
        break;
      case 'authz_fail':
        this.refusals.inc({ reason: String(detail.reason ?? 'no_scope') });
        break;
      case 'excess_rate_limit_exceeded': {
        this.refusals.inc({ reason: String(detail.limit ?? 'rate_limit') });
        const cap = SEND_CAPS[String(detail.limit)];
        if (cap) this.sendCaps.inc({ cap });
        break;
      }
      case 'replay_dropped':
        this.replays.inc({ kind: String(detail.kind ?? 'unknown') });
        break;
      case 'approval_requested':
        this.approvals.inc({ outcome: 'requested' });
        break;
      case 'approval_granted':
        // One approver's approval, or (approved: true) the last one needed: the request ends approved.
        this.approvals.inc({ outcome: detail.approved === true ? 'approved' : 'approval' });
        break;
      case 'approval_denied':
        this.approvals.inc({ outcome: 'denied' });
        break;
      case 'approval_expired':
        this.approvals.inc({ outcome: 'expired' });
        break;
      case 'approval_cancelled':
        this.approvals.inc({ outcome: detail.reason === 'cancelled' ? 'cancelled' : 'ended' });
        break;
      case 'break_glass':
        this.approvals.inc({ outcome: 'break_glass' });
        break;
      default:
        break;
    }
  };

  /** The provider, with each call's duration observed. */
  timeProvider(provider: CodeProvider): CodeProvider {
    return {
      send: (request) => this.time(this.bandwidth, 'send', () => provider.send(request)),
      verify: (request) => this.time(this.bandwidth, 'verify', () => provider.verify(request)),
    };
  }

  /** The store's ports, with each call that returns a promise timed (whatever methods the ports have). */
  timeStore<T extends { kv: KeyValueStore; counters: Counters }>(store: T): T {
    return { ...store, kv: this.timeCalls(store.kv), counters: this.timeCalls(store.counters) };
  }

  /**
   * The port with each of its methods wrapped once, here (a gated command makes a store call, so the
   * wrapper is on every request's path: no closure or label object is made per call). Anything else
   * is read through from the port.
   */
  private timeCalls<P extends object>(port: P): P {
    const histogram = this.store;
    const timed = Object.create(port) as Record<string, unknown>;
    for (const name of methodNames(port)) {
      const ok = { operation: name, outcome: 'ok' };
      const failed = { operation: name, outcome: 'error' };
      timed[name] = (...args: unknown[]) => {
        const startedAt = performance.now();
        // Looked up per call, as the port has it now (a test may replace a method after wiring).
        const method = (port as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
        const result = method.apply(port, args);
        if (!(result instanceof Promise)) return result; // e.g. entries(): an async iterable
        return result.then(
          (value: unknown) => {
            histogram.observe(ok, (performance.now() - startedAt) / 1000);
            return value;
          },
          (error: unknown) => {
            histogram.observe(failed, (performance.now() - startedAt) / 1000);
            throw error;
          },
        );
      };
    }
    return timed as P;
  }

  /** Call when a Slack request is acknowledged, with when it reached the app (ms). */
  observeAck(kind: string, startedAt: number): void {
    this.ack.observe(this.ackLabels(kind), (performance.now() - startedAt) / 1000);
  }

  private readonly ackKinds = new Map<string, { kind: string }>();
  /** One label object per kind, kept (observeAck runs on every request). */
  private ackLabels(kind: string): { kind: string } {
    let labels = this.ackKinds.get(kind);
    if (!labels) {
      labels = { kind };
      this.ackKinds.set(kind, labels);
    }
    return labels;
  }

  private async time<R>(
    histogram: Histogram<'operation' | 'outcome'>,
    operation: string,
    fn: () => Promise<R>,
  ): Promise<R> {
    const end = histogram.startTimer({ operation });
    try {
      const result = await fn();
      end({ outcome: 'ok' });
      return result;
    } catch (error) {
      end({ outcome: 'error' });
      throw error;
    }
  }
}

/** The names of the methods an object has, its own and its classes' (not Object's). */
function methodNames(object: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = object; o && o !== Object.prototype; o = Object.getPrototypeOf(o))
    for (const name of Object.getOwnPropertyNames(o))
      if (name !== 'constructor' && typeof (object as Record<string, unknown>)[name] === 'function') names.add(name);
  return [...names];
}
