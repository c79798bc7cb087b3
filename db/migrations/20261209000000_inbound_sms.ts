import type { Knex } from 'knex';

/**
 * Providers retry an inbound SMS they are not sure was delivered, with the
 * same providerId. The first delivery's outcome is kept here, written in the
 * transaction of what the message did (a rating, the citizen's information,
 * an sms.received event), so a retry on any node answers it again and does
 * nothing: a repeated "1" rated one case and then went to another one as a
 * message. The primary key decides between two nodes receiving it at once.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('inbound_sms', (t) => {
    t.text('provider_id').primary().comment('the providerId the SMS provider sent the message with');
    t.text('request_hash').notNullable().comment('sha256 of the sender as digits and the text: the same providerId from another number or with another text is refused, not answered');
    t.jsonb('response').notNullable().comment('what POST /v1/sms/inbound answered the first time: every retry gets it');
    t.timestamp('received_at', { useTz: true }).notNullable();
  });
  await knex.raw(`comment on table inbound_sms is 'Inbound SMS already received, by providerId: a provider''s retry is answered as the first delivery was and changes nothing'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('inbound_sms');
}
