// The signup service: writes the user record, publishes UserSignedUp and
// returns. It calls none of the services that care about a signup; they
// read the fact from the "users" stream in their own consumer groups.
import { randomUUID } from "node:crypto";
import type { ChronicleConnection } from "@chronicle/runtime";
import { createUsersProducer, type UsersProducer } from "./gen/shop/identity/v1/identity_chronicle.js";

/** The signup form. */
export interface SignupForm {
  email: string;
  displayName: string;
  country: string;
  referral: string;
}

/** A user record as the signup service stores it. */
export interface UserRecord extends SignupForm {
  userId: string;
  createdAt: Date;
}

/** The signup service. */
export interface SignupService {
  /** Writes the user, publishes UserSignedUp (resolved once the stream stored it) and returns the new user id. */
  signUp(form: SignupForm): Promise<string>;
  /**
   * Publishes the UserSignedUp of an existing user again with a new dedup
   * key, as a retry after the stream's duplicate window would: consumers
   * absorb it by the event's idempotency key (user_id).
   */
  republish(userId: string): Promise<void>;
  /** The users table (in memory in this example). */
  readonly users: Map<string, UserRecord>;
  close(): Promise<void>;
}

/** Creates the signup service on a connection (the "users" stream must exist). */
export function createSignupService(conn: ChronicleConnection): SignupService {
  const users = new Map<string, UserRecord>();
  const producer: UsersProducer = createUsersProducer(conn, { source: "/shop/signup" });
  const publish = (u: UserRecord, dedupKey?: string) =>
    producer.publishUserSignedUp(
      { userId: u.userId, email: u.email, displayName: u.displayName, country: u.country, referral: u.referral },
      { time: u.createdAt, ...(dedupKey ? { dedupKey } : {}) },
    );
  return {
    users,
    async signUp(form) {
      const user: UserRecord = { ...form, userId: `u-${randomUUID().slice(0, 8)}`, createdAt: new Date() };
      users.set(user.userId, user);
      await publish(user);
      return user.userId;
    },
    async republish(userId) {
      const user = users.get(userId);
      if (!user) throw new Error(`no user ${userId}`);
      await publish(user, `retry:${userId}:${randomUUID()}`);
    },
    async close() {
      await producer.close();
    },
  };
}
