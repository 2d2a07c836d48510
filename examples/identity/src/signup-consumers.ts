// Five services that react to UserSignedUp, each in its own consumer group,
// so each reads every signup at its own pace and a slow or broken one holds
// back nobody else.
import type { ChronicleConnection, ConsumerGroupMember } from "@chronicle/runtime";
import { startUsersConsumer, usersHandlers, type UsersEvent } from "./gen/shop/identity/v1/identity_chronicle.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the five services did, for the demo and the tests to check. */
export interface SignupEffects {
  /** welcome-email: emails sent per user id (must be 1 each). */
  welcomeEmails: Map<string, number>;
  /** welcome-email: the idempotent "sent" markers (user ids). */
  sentMarkers: Set<string>;
  /** audit-log: one line per signup. */
  auditLog: string[];
  /** fraud-check: user ids flagged for review. */
  flagged: Set<string>;
  /** profile-init: profiles created. */
  profiles: Map<string, { displayName: string; newsletter: boolean }>;
  /** analytics: signups per referral channel. */
  byReferral: Map<string, number>;
  /** Events of one key seen out of stream order, per group (must be 0). */
  orderViolations: number;
}

/** The five consumer groups and how long each takes per event (its pace). */
export const SIGNUP_GROUPS = {
  "welcome-email": 2,
  "audit-log": 0,
  "fraud-check": 1,
  "profile-init": 0,
  analytics: 8,
} as const;

/** Starts one member of each of the five groups; `paceMs` overrides the per-event delay (0 in tests). */
export async function startSignupConsumers(
  conn: ChronicleConnection,
  options: { paceMs?: Partial<Record<keyof typeof SIGNUP_GROUPS, number>>; failoverMs?: number } = {},
): Promise<{ members: ConsumerGroupMember[]; effects: SignupEffects }> {
  const effects: SignupEffects = {
    welcomeEmails: new Map(),
    sentMarkers: new Set(),
    auditLog: [],
    flagged: new Set(),
    profiles: new Map(),
    byReferral: new Map(),
    orderViolations: 0,
  };
  const effectOf: Record<keyof typeof SIGNUP_GROUPS, (u: UsersEvent<"UserSignedUp">) => void> = {
    "welcome-email": (u) => {
      // the "sent" marker makes sending idempotent even when the runtime's
      // idempotency record was lost (a crash between send and record)
      if (effects.sentMarkers.has(u.userId)) return;
      effects.welcomeEmails.set(u.userId, (effects.welcomeEmails.get(u.userId) ?? 0) + 1);
      effects.sentMarkers.add(u.userId);
    },
    "audit-log": (u) => void effects.auditLog.push(`signup ${u.userId} ${u.email}`),
    "fraud-check": (u) => {
      if (u.email.endsWith("@mailinator.test")) effects.flagged.add(u.userId);
    },
    "profile-init": (u) => void effects.profiles.set(u.userId, { displayName: u.displayName, newsletter: u.referral !== "ad" }),
    analytics: (u) => void effects.byReferral.set(u.referral, (effects.byReferral.get(u.referral) ?? 0) + 1),
  };
  const members = await Promise.all(
    (Object.keys(SIGNUP_GROUPS) as (keyof typeof SIGNUP_GROUPS)[]).map((group) => {
      const pace = options.paceMs?.[group] ?? SIGNUP_GROUPS[group];
      const lastSequence = new Map<string, number>();
      return startUsersConsumer(conn, {
        group,
        ...(options.failoverMs ? { failoverMs: options.failoverMs } : {}),
        // a slow service handles few events at once
        maxConcurrency: pace > 4 ? 4 : 64,
        handlers: usersHandlers({
          async UserSignedUp(user, ctx) {
            if ((lastSequence.get(ctx.key) ?? 0) > ctx.sequence) effects.orderViolations++;
            lastSequence.set(ctx.key, ctx.sequence);
            if (pace > 0) await sleep(pace);
            effectOf[group](user);
          },
        }),
      });
    }),
  );
  return { members, effects };
}
