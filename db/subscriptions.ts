import type { Knex } from 'knex';
import type { Db } from './connect.js';

/** A webhook subscription (POST /v1/subscriptions). */
export interface SubscriptionRow {
  id: string;
  url: string;
  events: string[];
  agency: string | null;
  secret: string;
  created_by: string;
  created_at: Date;
  ended_at: Date | null;
}

export async function insertSubscription(db: Db, row: { url: string; events: string[]; agency: string | null; secret: string; created_by: string; at: Date }): Promise<SubscriptionRow> {
  const [inserted] = await db('subscriptions')
    .insert({ url: row.url, events: row.events, agency: row.agency, secret: row.secret, created_by: row.created_by, created_at: row.at })
    .returning('*');
  return inserted;
}

export async function findSubscription(db: Db | Knex.Transaction, id: string): Promise<SubscriptionRow | undefined> {
  return db('subscriptions').where({ id }).first();
}

/** End a subscription (idempotent: the first end time stays). */
export async function endSubscription(db: Db, id: string, at: Date): Promise<void> {
  await db('subscriptions').where({ id }).whereNull('ended_at').update({ ended_at: at });
}

export interface DeliveryRow {
  id: string;
  subscription_id: string;
  event_id: string;
  job_id: string | null;
  attempt: number;
  outcome: 'delivered' | 'failed' | 'refused';
  http_status: number | null;
  error: string | null;
  at: Date;
}

export async function insertDelivery(db: Db, row: Omit<DeliveryRow, 'id'>): Promise<void> {
  await db('webhook_deliveries').insert(row);
}

/** A subscription's delivery attempts, newest first, keyset-paginated on id; each with its event's public id and type. */
export async function deliveriesOf(db: Db, subscriptionId: string, page: { before?: string; limit: number }): Promise<Array<DeliveryRow & { event_uuid: string; type: string }>> {
  const q = db('webhook_deliveries as d')
    .join('hotline_events as e', 'e.id', 'd.event_id')
    .where('d.subscription_id', subscriptionId)
    .orderBy('d.id', 'desc')
    .limit(page.limit)
    .select('d.*', 'e.event_id as event_uuid', 'e.type');
  if (page.before) q.where('d.id', '<', page.before);
  return q;
}
